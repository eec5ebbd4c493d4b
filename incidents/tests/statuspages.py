"""Helpers of the status page tests: a page of client A whose texts carry XSS payloads, with a
component monitor and private monitors whose names, ids and addresses must never show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import models

from incidents.models import (
    Incident,
    IncidentState,
    PublicUpdate,
    StatusComponent,
    StatusPage,
    UpdateStatus,
)
from incidents.statuspage_links import forget_domains
from monitoring.models import CheckKind, Monitor, MonitorState

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SVG = '"><svg onload=window.__xss=1>'
PAYLOADS = (SCRIPT, IMG, SVG)

# Distinctive ids and texts, so "appears nowhere" is a meaningful search.
SHOWN_MONITOR_ID = 9048213
PRIVATE_MONITOR_ID = 9051977
OTHER_PRIVATE_MONITOR_ID = 9063149
THIRD_MONITOR_ID = 9070417
THIRD_MONITOR_NAME = "Blog backend probe"
SHOWN_MONITOR_NAME = "Internal checkout probe"
SHOWN_MONITOR_URL = "https://a.example/checkout?probe=internal-7f3"
SHOWN_MONITOR_MESSAGE = "upstream db-7.internal refused"
PRIVATE_NAME = "Secret Ledger API"
PRIVATE_URL = "https://ledger.internal.a.example/health"
PRIVATE_MESSAGE = "ledger-db-primary timed out"
OTHER_PRIVATE_NAME = "Hidden Payroll Export"
OTHER_PRIVATE_URL = "https://payroll.hidden.a.example/"
SECRETS = (
    str(SHOWN_MONITOR_ID),
    str(PRIVATE_MONITOR_ID),
    str(OTHER_PRIVATE_MONITOR_ID),
    str(THIRD_MONITOR_ID),
    THIRD_MONITOR_NAME,
    SHOWN_MONITOR_NAME,
    SHOWN_MONITOR_URL,
    SHOWN_MONITOR_MESSAGE,
    PRIVATE_NAME,
    PRIVATE_URL,
    PRIVATE_MESSAGE,
    OTHER_PRIVATE_NAME,
    OTHER_PRIVATE_URL,
)


@dataclass
class StatusWorld:
    page: StatusPage
    shown: Monitor
    private: Monitor
    other_private: Monitor
    components: list[StatusComponent]


def reset_caches() -> None:
    """The custom domain map and the subscribe rate limit live outside the test database."""
    forget_domains()
    cache.clear()


def make_monitor(site, pk: int, name: str, url: str, state: str, created_at: datetime) -> Monitor:
    return Monitor.objects.create(
        pk=pk,
        site=site,
        name=name,
        kind=CheckKind.HTTP,
        url=url,
        state=state,
        state_since=created_at,
        created_at=created_at,
    )


def status_world(world, now: datetime, *, slug: str = "shop-a") -> StatusWorld:
    """A published page of client A: three components whose public names are XSS payloads.

    ``world.monitor_a`` and two more monitors of client A stay private: one of them is down
    with an open incident whose message names internals.
    """
    created = now - timedelta(days=3)
    shown = make_monitor(
        world.site_a,
        SHOWN_MONITOR_ID,
        SHOWN_MONITOR_NAME,
        SHOWN_MONITOR_URL,
        MonitorState.DOWN,
        created,
    )
    private = make_monitor(
        world.site_a, PRIVATE_MONITOR_ID, PRIVATE_NAME, PRIVATE_URL, MonitorState.DOWN, created
    )
    other_private = make_monitor(
        world.site_a,
        OTHER_PRIVATE_MONITOR_ID,
        OTHER_PRIVATE_NAME,
        OTHER_PRIVATE_URL,
        MonitorState.UP,
        created,
    )
    Incident.objects.create(
        monitor=shown,
        state=IncidentState.OPEN,
        opened_at=now - timedelta(minutes=30),
        message=SHOWN_MONITOR_MESSAGE,
    )
    Incident.objects.create(
        monitor=private,
        state=IncidentState.OPEN,
        opened_at=now - timedelta(minutes=20),
        message=PRIVATE_MESSAGE,
    )
    page = StatusPage(
        client=world.client_a,
        slug=slug,
        title=f"Shop A status {SCRIPT}",
        intro=f"Intro {IMG}",
        agency_name=f"Agency {SVG}",
        published=True,
    )
    page.full_clean()
    page.save()
    components = [
        StatusComponent.objects.create(page=page, monitor=shown, name=SCRIPT, position=0),
        StatusComponent.objects.create(page=page, monitor=world.monitor_a, name=IMG, position=1),
    ]
    # A second component sharing a monitor is refused, so the third payload names a third one.
    third = make_monitor(
        world.site_a, THIRD_MONITOR_ID, THIRD_MONITOR_NAME, "https://a.example/blog", "up", created
    )
    components.append(
        StatusComponent.objects.create(page=page, monitor=third, name=SVG, position=2)
    )
    return StatusWorld(page, shown, private, other_private, components)


def status_walk_objects(world, incident) -> dict[str, models.Model]:
    """For the tenant walks: one client-A object per status page id parameter."""
    page = StatusPage.objects.create(client=world.client_a, slug="walk", title="Walk")
    component = StatusComponent.objects.create(page=page, monitor=world.monitor_a, name="Shop")
    update = PublicUpdate.objects.create(
        incident=incident, status=UpdateStatus.INVESTIGATING, body="x", posted_at=incident.opened_at
    )
    return {"page_id": page, "component_id": component, "update_id": update}


def status_walk_bodies(world) -> dict[str, dict]:
    """For the API walk: valid PUT bodies (client B's ids, refused only by scope)."""
    return {
        "page_id": {"client": world.client_b.pk, "slug": "x", "title": "X"},
        "component_id": {"page": 1, "monitor": world.monitor_b.pk, "name": "X"},
    }
