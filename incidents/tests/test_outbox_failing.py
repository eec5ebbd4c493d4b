"""A channel that keeps failing: backoff, a failing mark, one owner notice on another channel,
then, once its receiver recovers, each waiting notification delivered exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from front.tests.conftest import signed_in
from incidents import sender
from incidents.channel_health import start_failing
from incidents.logic import open_incident, resolve_incident
from incidents.models import (
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    Notification,
    NotificationState,
)
from incidents.tests.receivers import HOLD, WebhookReceiver
from monitoring.failures import FailureClass
from monitoring.models import Monitor, MonitorState, StateChange

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class FlakyReceiver(WebhookReceiver):
    """Answers its plan, then ``fallback`` (a failure until it "recovers"); keeps each answer."""

    fallback: int | str = 503
    answers: list[int | str] = field(default_factory=list)

    def _next_answer(self) -> int | str:
        answer = self.plan.popleft() if self.plan else self.fallback
        self.answers.append(answer)
        return answer

    def delivered_keys(self) -> Counter[str]:
        """How many times each dedup key was answered 200 (what the receiver accepted)."""
        return Counter(
            r.headers[sender.DEDUP_HEADER]
            for r, answer in zip(self.requests, self.answers, strict=True)
            if answer == 200
        )


@pytest.fixture
def flaky():
    receiver = FlakyReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def owner_inbox():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def short_retries(settings):
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 10.0
    settings.SITECARE_ALERT_MAX_ATTEMPTS = 3
    settings.SITECARE_ALERT_SEND_TIMEOUT = 1.0
    return settings


@pytest.fixture
def agency_channels(world, flaky, owner_inbox) -> tuple[Channel, Channel]:
    """The agency's ops hook (flaky) and owner hook; the clients' own hooks are switched off."""
    Channel.objects.filter(name__in=["A hook", "B hook"]).update(enabled=False)
    ops = Channel.objects.create(organization=world.agency, name="Ops hook", url=flaky.url())
    owners = Channel.objects.create(
        organization=world.agency, name="Owner hook", url=owner_inbox.url("/owner")
    )
    return ops, owners


def send_due() -> int:
    return sender.process_due(threading.Event())


def flip(monitor: Monitor, to_state: str, at: datetime) -> Incident | None:
    change = StateChange.objects.create(
        monitor=monitor,
        at=at,
        from_state=MonitorState.UP if to_state == MonitorState.DOWN else MonitorState.DOWN,
        to_state=to_state,
        failure_class=FailureClass.HTTP_STATUS if to_state == MonitorState.DOWN else "",
    )
    if to_state == MonitorState.DOWN:
        return open_incident(monitor, change, detected_at=at)
    return resolve_incident(monitor, change, detected_at=at)


def test_it_backs_off_marks_failing_tells_the_owner_and_delivers_each_waiting_alert_once(
    world, flaky, owner_inbox, short_retries, agency_channels
):
    ops, _owners = agency_channels
    flaky.answer(500, 401, HOLD)  # then 503 until it recovers
    with time_machine.travel(T0, tick=False) as clock:
        incident_a = flip(world.monitor_a, MonitorState.DOWN, T0)
        assert incident_a is not None
        first = Notification.objects.get(incident=incident_a, channel=ops)

        assert send_due() == 2  # 500 on the ops hook; the owner hook gets the alert
        first.refresh_from_db()
        assert (first.attempts, first.next_attempt_at) == (1, T0 + timedelta(seconds=10))
        clock.shift(9)
        assert send_due() == 0  # backing off
        clock.shift(1)
        assert send_due() == 1  # 401
        first.refresh_from_db()
        assert (first.attempts, first.next_attempt_at) == (2, T0 + timedelta(seconds=30))
        clock.shift(20)
        assert send_due() == 2  # times out: the last attempt; then the owner notice goes out

        first.refresh_from_db()
        ops.refresh_from_db()
        assert first.state == NotificationState.FAILED
        assert ops.failing_since == T0 + timedelta(seconds=30)
        assert ops.is_failing
        assert IncidentEvent.objects.filter(
            incident=incident_a, kind=EventKind.NOTIFICATION_FAILED, message__contains="Ops hook"
        ).exists()
        notices = [r for r in owner_inbox.requests if "is failing" in r.json()["title"]]
        assert len(notices) == 1
        assert "Ops hook" in notices[0].json()["title"]
        assert "3 attempts" in notices[0].json()["message"]

        # Still failing: more alerts wait for it, and the owners are not told again.
        clock.shift(10)
        flip(world.monitor_b, MonitorState.DOWN, T0 + timedelta(seconds=40))
        assert send_due() == 2
        clock.shift(5)
        resolved = flip(world.monitor_a, MonitorState.UP, T0 + timedelta(seconds=45))
        assert resolved is not None
        assert send_due() == 2
        assert Notification.objects.filter(event=EventKind.CHANNEL_FAILING).count() == 1

        page = signed_in(world.owner).get(reverse("front:channel", args=[ops.pk]))
        assert "Alerts to this channel are failing" in page.content.decode()
        assert "Owner hook" in page.content.decode()

        # The receiver recovers: the next attempt succeeds and the rest follow at once.
        flaky.fallback = 200
        clock.shift(5)
        assert send_due() == 1
        clock.shift(timedelta(days=1))
        assert send_due() == 0

    ops.refresh_from_db()
    assert ops.failing_since is None
    assert not ops.is_failing
    waiting = Notification.objects.filter(channel=ops, incident__monitor=world.monitor_b)
    assert {n.state for n in waiting} == {NotificationState.DELIVERED}
    assert flaky.delivered_keys() == Counter({n.dedup_key: 1 for n in waiting})
    # Incident A opened and resolved while the hook was down: it hears of neither, never of
    # a "resolved" alone (incidents.alert_order); both stay visible as failed.
    assert first.dedup_key not in flaky.delivered_keys()
    told_a = Notification.objects.filter(channel=ops, incident=incident_a).order_by("pk")
    assert [(n.event, n.state) for n in told_a] == [
        (EventKind.OPENED, NotificationState.FAILED),
        (EventKind.RESOLVED, NotificationState.FAILED),
    ]
    assert flaky.answers[:3] == [500, 401, HOLD]
    page = signed_in(world.owner).get(reverse("front:channels"))
    assert "badge--failing" not in page.content.decode()


def test_it_shows_the_banner_as_the_notice_when_no_other_channel_works(world, flaky, short_retries):
    Channel.objects.filter(name="B hook").update(enabled=False)
    hook = Channel.objects.get(name="A hook")
    hook.url = flaky.url()
    hook.save()
    flaky.answer(500, 500, 500)
    with time_machine.travel(T0, tick=False) as clock:
        flip(world.monitor_a, MonitorState.DOWN, T0)
        for _ in range(3):
            assert send_due() == 1
            clock.shift(3600)
    hook.refresh_from_db()
    assert hook.failing_since is not None
    # Client A's hook is no place for agency notices, and there is no other channel.
    assert not Notification.objects.filter(event=EventKind.CHANNEL_FAILING).exists()
    html = signed_in(world.owner).get(reverse("front:channel", args=[hook.pk])).content.decode()
    assert "this notice is the only one" in html
    listing = signed_in(world.owner).get(reverse("front:channels")).content.decode()
    assert "badge--failing" in listing


def test_it_sends_owner_notices_to_working_agency_channels_only(world, short_retries):
    failing = Channel.objects.get(name="A hook")
    make = Channel.objects.create
    agency_wide = make(organization=world.agency, name="Agency", url="json://x.example/")
    owners_phone = make(organization=world.agency, name="Phone", url="json://x.example/")
    owners_phone.user = world.owner
    owners_phone.save()
    engineers = make(organization=world.agency, name="Eng", url="json://x.example/")
    engineers.user = world.engineer
    engineers.save()
    make(organization=world.agency, name="Off", url="json://x.example/", enabled=False)
    make(organization=world.agency, name="Down", url="json://x.example/", failing_since=T0)
    # B hook is client B's: never told about the agency's plumbing.

    rows = start_failing(failing, T0, "HTTP 500")
    assert {row.channel_id for row in rows} == {agency_wide.pk, owners_phone.pk}
    assert start_failing(failing, T0 + timedelta(minutes=5), "HTTP 500") == []  # once
