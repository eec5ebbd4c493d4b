"""Helpers for escalation and acknowledgement tests: personal channels and policies pointed at
a real local webhook receiver, outages, and the real alert sender loop run once.

Every channel of the ``world`` is pointed at the receiver with its own path (``/a-hook``,
``/b-hook``, ``/owner``, …), so a test reads who was told what from the requests' paths.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlparse

from django.contrib.auth.models import User
from django.test import Client as HttpClient

from incidents import sender
from incidents.escalation_edit import PolicySpec, StepSpec, save_policy
from incidents.logic import on_state_change
from incidents.models import Channel, EscalationPolicy, Incident, OnCallSchedule, Weekday
from incidents.oncall_edit import RotationSpec, save_schedule
from incidents.tests.receivers import WebhookReceiver
from monitoring.failures import FailureClass
from monitoring.models import Monitor, MonitorState, StateChange

# A Monday, 09:00 UTC.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def point_world_channels(world, webhook: WebhookReceiver) -> None:
    """Client A's and B's ordinary channels deliver to the receiver as /a-hook and /b-hook."""
    for name, path in (("A hook", "/a-hook"), ("B hook", "/b-hook")):
        channel = Channel.objects.get(organization=world.agency, name=name)
        channel.url = webhook.url(path)
        channel.save()


def personal(user: User, webhook: WebhookReceiver, path: str | None = None) -> Channel:
    """The user's personal channel, delivering to the receiver at /<username>."""
    return Channel.objects.create(
        organization_id=user.membership.organization_id,
        user=user,
        name=f"{user.username}'s phone",
        url=webhook.url(path or f"/{user.username}"),
    )


def make_policy(
    world,
    steps: list[StepSpec],
    *,
    repeat: int = 0,
    name: str = "Ops",
    is_default: bool = True,
    clients: list[int] | None = None,
    sites: list[int] | None = None,
) -> EscalationPolicy:
    policy = EscalationPolicy(organization=world.agency)
    spec = PolicySpec(
        name=name,
        is_default=is_default,
        repeat=repeat,
        steps=steps,
        clients=clients or [],
        sites=sites or [],
    )
    return save_policy(policy, spec)


def on_call_schedule(world, people: list[User], name: str = "Primary") -> OnCallSchedule:
    """A weekly rotation in UTC handing off on Mondays at 09:00, from T0: people in turn."""
    schedule = OnCallSchedule(organization=world.agency, name=name, time_zone="UTC")
    spec = RotationSpec(
        participants=[p.pk for p in people],
        handoff_weekday=Weekday.MONDAY,
        handoff_time=time(9, 0),
        length_weeks=1,
        starts_on=T0.date(),
    )
    save_schedule(schedule, spec)
    return schedule


def go_down(monitor: Monitor, at: datetime) -> Incident:
    """A confirmed down flip at ``at``, through the same entry point as the engine."""
    Monitor.objects.filter(pk=monitor.pk).update(state=MonitorState.DOWN)
    change = StateChange.objects.create(
        monitor=monitor,
        at=at,
        from_state=MonitorState.UP,
        to_state=MonitorState.DOWN,
        failure_class=FailureClass.HTTP_STATUS,
        message="HTTP 503",
    )
    incident = on_state_change(change, detected_at=at)
    assert incident is not None
    return incident


def come_back(monitor: Monitor, at: datetime) -> None:
    Monitor.objects.filter(pk=monitor.pk).update(state=MonitorState.UP)
    change = StateChange.objects.create(
        monitor=monitor, at=at, from_state=MonitorState.DOWN, to_state=MonitorState.UP
    )
    on_state_change(change, detected_at=at)


def run_sender_once() -> int:
    """One round of the real alert sender loop: held outages, escalations, the outbox."""
    return sender.run(threading.Event(), once=True)


def paths(webhook: WebhookReceiver) -> list[str]:
    return [r.path for r in webhook.requests]


def messages_to(webhook: WebhookReceiver, path: str) -> list[str]:
    return [r.json()["message"] for r in webhook.requests if r.path == path]


def ack_link_in(message: str) -> str:
    """The path of the one-click link in an alert's text."""
    [line] = [line for line in message.splitlines() if "/ack/" in line]
    return urlparse(line.split()[-1]).path


def post_ack_link(path: str) -> HttpClient:
    """Open the link like a person: GET the page (CSRF enforced), then press the button."""
    browser = HttpClient(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200, page.status_code
    token = page.cookies["csrftoken"].value
    response = browser.post(path, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200, response.status_code
    return browser
