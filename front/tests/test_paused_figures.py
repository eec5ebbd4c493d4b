"""Paused monitors on the monitor page, the site page and the dashboard (review M1, M2): paused
time is unknown in the uptime figures, as in the SLA, not down; a paused monitor keeps its
earlier figures in its site's; an open incident of a paused monitor shows the monitor paused,
not down."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from front.tests.conftest import signed_in
from incidents.models import Incident
from monitoring.models import Monitor, MonitorState, StateChange
from monitoring.pauses import Actor, set_enabled

T0 = datetime(2026, 12, 7, 10, tzinfo=UTC)
DOWN_AT = T0 + timedelta(hours=1)
PAUSED_AT = DOWN_AT + timedelta(minutes=20)
NOW = PAUSED_AT + timedelta(hours=2)


@pytest.fixture
def paused_while_down(world) -> Monitor:
    """Monitor A up from T0, down from DOWN_AT with its incident, paused 20 min later and
    still paused at NOW; monitor "Blog" on the same site up throughout."""
    monitor = world.monitor_a
    Monitor.objects.filter(pk=monitor.pk).update(created_at=T0, state=MonitorState.DOWN)
    StateChange.objects.create(monitor=monitor, at=T0, from_state="unknown", to_state="up")
    StateChange.objects.create(monitor=monitor, at=DOWN_AT, from_state="up", to_state="down")
    Incident.objects.create(monitor=monitor, opened_at=DOWN_AT, message="HTTP 500")
    blog = Monitor.objects.create(
        site=world.site_a,
        name="Blog",
        url="https://a.example/blog",
        created_at=T0,
        state=MonitorState.UP,
    )
    StateChange.objects.create(monitor=blog, at=T0, from_state="unknown", to_state="up")
    monitor.refresh_from_db()
    set_enabled(monitor, False, Actor.web(world.engineer), now=PAUSED_AT)
    return monitor


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@time_machine.travel(NOW, tick=False)
def test_it_leaves_paused_time_out_of_the_monitor_uptime(world, paused_while_down):
    html = signed_in(world.owner).get(reverse("front:monitor", args=[paused_while_down.pk]))
    said = words(html.content.decode())
    # Known: 1 h up and 20 min down before the pause; the 2 paused hours are not down.
    assert "75.00 % Uptime 24 h" in said
    assert "20 min Downtime 30 d" in said


@time_machine.travel(NOW, tick=False)
def test_it_keeps_a_paused_monitor_in_its_site_figures_without_its_paused_time(
    world, paused_while_down
):
    html = signed_in(world.owner).get(reverse("front:site", args=[world.site_a.pk]))
    said = words(html.content.decode())
    # The site: down the 20 min before the pause (the outage stays), up otherwise (the blog
    # watches it during the pause): 3 h up of 3 h 20 min.
    assert "90.00 % Uptime 24 h" in said
    assert "20 min Downtime 30 d" in said


@time_machine.travel(NOW, tick=False)
def test_it_shows_an_open_incident_of_a_paused_monitor_as_paused(world, paused_while_down):
    html = signed_in(world.owner).get(reverse("front:dashboard")).content.decode()
    now = html.split("Happening now")[1].split("</section>")[0]
    assert "badge--paused" in now and "badge--down" not in now
    assert "paused for 2" in words(now)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        set_enabled(paused_while_down, True, Actor.web(world.engineer))
        html = signed_in(world.owner).get(reverse("front:dashboard")).content.decode()
    now = html.split("Happening now")[1].split("</section>")[0]
    assert "badge--unknown" in now and "badge--down" not in now
    assert "waiting for its first check" in words(now)


@time_machine.travel(NOW, tick=False)
def test_it_records_the_pause_on_the_incident_timeline(world, paused_while_down):
    """Review M2: the incident's timeline said nothing of its monitor being paused."""
    incident = Incident.objects.get(monitor=paused_while_down)
    url = reverse("front:incident", args=[incident.pk])
    agency = words(signed_in(world.owner).get(url).content.decode())
    assert "Paused by engineer" in agency
    client = words(signed_in(world.client_a_user).get(url).content.decode())
    assert "Paused by the agency" in client and "engineer" not in client
