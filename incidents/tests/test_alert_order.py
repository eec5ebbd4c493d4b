"""A channel never hears "resolved" of an incident whose "opened" it did not get.

A real webhook receiver on loopback plays a channel that fails, then recovers; what it
accepted, in which order, is what a client would have read.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from front.tests.conftest import signed_in
from incidents import alert_order, channels, sender
from incidents.models import Channel, EventKind, IncidentEvent, Notification, NotificationState
from incidents.tests.test_outbox_failing import FlakyReceiver, flip
from monitoring.models import CheckKind, Monitor, MonitorState

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def hook(world):
    receiver = FlakyReceiver().start()
    channel = Channel.objects.get(name="A hook")
    channel.url = receiver.url()
    channel.save()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def short_retries(settings):
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 10.0
    settings.SITECARE_ALERT_MAX_ATTEMPTS = 2
    settings.SITECARE_ALERT_SEND_TIMEOUT = 1.0


def second_monitor(world) -> Monitor:
    """Another monitor of client A: its alerts go to the same hook."""
    return Monitor.objects.create(
        site=world.site_a, name="Checkout", kind=CheckKind.HTTP, url="https://a.example/pay"
    )


def send_due() -> int:
    return sender.process_due(threading.Event())


def accepted(receiver: FlakyReceiver) -> list[str]:
    """The events the receiver accepted, in the order it accepted them."""
    return [
        r.json()["type"]
        for r, answer in zip(receiver.requests, receiver.answers, strict=True)
        if answer == 200
    ]


def fail_until_given_up(clock) -> None:
    """Let the channel's pending alerts use up their two attempts (10 s backoff)."""
    send_due()
    clock.shift(10)
    send_due()


def test_it_sends_a_retried_opening_before_the_resolution_written_after_it(world, hook):
    hook.answer(500)  # the first attempt fails, then the hook works
    hook.fallback = 200
    with time_machine.travel(T0, tick=False) as clock:
        flip(world.monitor_a, MonitorState.DOWN, T0)
        assert send_due() == 1  # 500: "opened" backs off 10 s
        clock.shift(2)
        flip(world.monitor_a, MonitorState.UP, T0 + timedelta(seconds=2))
        # "resolved" is due now and the hook works, but "opened" still waits: nothing goes.
        assert send_due() == 0
        clock.shift(8)
        assert send_due() == 2
    assert accepted(hook) == ["failure", "success"]  # opened, then resolved


def test_it_tells_neither_of_an_incident_that_opened_and_resolved_while_it_was_down(world, hook):
    with time_machine.travel(T0, tick=False) as clock:
        incident = flip(world.monitor_a, MonitorState.DOWN, T0)
        fail_until_given_up(clock)  # "opened" failed for good; the hook is failing
        clock.shift(60)
        flip(world.monitor_a, MonitorState.UP, T0 + timedelta(seconds=70))
        hook.fallback = 200  # the hook works again, and another outage of A's proves it
        flip(second_monitor(world), MonitorState.DOWN, T0 + timedelta(seconds=70))
        send_due()
        clock.shift(timedelta(hours=1))
        send_due()
    told = Notification.objects.filter(incident=incident).order_by("pk")
    assert [(n.event, n.state) for n in told] == [
        (EventKind.OPENED, NotificationState.FAILED),
        (EventKind.RESOLVED, NotificationState.FAILED),
    ]
    assert accepted(hook) == ["failure"]  # the checkout's "opened" only; nothing of the first
    assert Channel.objects.get(name="A hook").failing_since is None
    assert "Held back" in told[1].last_error
    assert IncidentEvent.objects.filter(
        incident=incident, kind=EventKind.NOTIFICATION_FAILED, details__held_back=True
    ).exists()


def test_it_sends_a_failed_opening_once_when_the_channel_recovers_then_the_resolution(world, hook):
    with time_machine.travel(T0, tick=False) as clock:
        incident = flip(world.monitor_a, MonitorState.DOWN, T0)
        fail_until_given_up(clock)
        hook.fallback = 200
        clock.shift(60)
        # The owner fixes the hook and sends a test message: the hook works again.
        page = reverse("front:channel", args=[Channel.objects.get(name="A hook").pk])
        response = signed_in(world.owner).post(page, {"action": "test"}, follow=True)
        assert "The test message was delivered." in response.content.decode()
        assert send_due() == 1  # the incident is still open: its "opened" goes out now
        clock.shift(30)
        flip(world.monitor_a, MonitorState.UP, T0 + timedelta(seconds=100))
        assert send_due() == 1
        clock.shift(timedelta(days=1))
        assert send_due() == 0
    told = Notification.objects.filter(incident=incident).order_by("pk")
    assert [n.state for n in told] == [NotificationState.DELIVERED] * 2
    alerts = [t for t in accepted(hook) if t != "info"]  # the test message is "info"
    assert alerts == ["failure", "success"]


def test_it_sends_the_resolution_it_owes_a_channel_that_heard_of_the_outage(world, hook):
    hook.answer(200)  # "opened" arrives; then the hook fails
    with time_machine.travel(T0, tick=False) as clock:
        incident = flip(world.monitor_a, MonitorState.DOWN, T0)
        assert send_due() == 1
        clock.shift(60)
        flip(world.monitor_a, MonitorState.UP, T0 + timedelta(seconds=60))
        fail_until_given_up(clock)  # "resolved" failed for good
        hook.fallback = 200
        clock.shift(60)
        flip(second_monitor(world), MonitorState.DOWN, T0 + timedelta(seconds=130))
        send_due()
        clock.shift(timedelta(hours=1))
        send_due()
    told = Notification.objects.filter(incident=incident).order_by("pk")
    assert [n.state for n in told] == [NotificationState.DELIVERED] * 2
    # Home's opened, the checkout's (which proved the hook works), then Home's resolution.
    assert accepted(hook) == ["failure", "failure", "success"]


MARCH = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
SEPTEMBER = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def fail_then_recover(world, hook, clock, at: datetime) -> None:
    """An unrelated outage: the hook fails for good, then a test proves it works again."""
    hook.fallback = 503
    flip(second_monitor(world), MonitorState.DOWN, at)
    fail_until_given_up(clock)
    assert Channel.objects.get(name="A hook").failing_since is not None
    hook.fallback = 200
    clock.shift(60)
    assert channels.send_test(Channel.objects.get(name="A hook"), by="owner").delivered


def test_it_never_resends_what_failed_before_the_episode_that_ends(world, hook):
    """March: "resolved" failed because the channel was switched off (no failing episode).
    September: an unrelated failing episode ends. March's news stays in March."""
    hook.fallback = 200
    channel = Channel.objects.get(name="A hook")
    with time_machine.travel(MARCH, tick=False) as clock:
        march = flip(world.monitor_a, MonitorState.DOWN, MARCH)
        assert send_due() == 1
        clock.shift(600)
        flip(world.monitor_a, MonitorState.UP, MARCH + timedelta(seconds=600))
        Channel.objects.filter(pk=channel.pk).update(enabled=False)
        send_due()
        Channel.objects.filter(pk=channel.pk).update(enabled=True)
    resolved = Notification.objects.get(incident=march, event=EventKind.RESOLVED)
    assert resolved.state == NotificationState.FAILED
    # A row failed before failed_at was recorded (an older install): history too.
    Notification.objects.filter(pk=resolved.pk).update(failed_at=None)
    with time_machine.travel(SEPTEMBER, tick=False) as clock:
        fail_then_recover(world, hook, clock, SEPTEMBER)
        send_due()
        clock.shift(3600)
        send_due()
    resolved.refresh_from_db()
    assert resolved.state == NotificationState.FAILED
    assert resolved.dedup_key not in {r.headers[sender.DEDUP_HEADER] for r in hook.requests}


def test_it_supersedes_a_page_for_an_incident_that_is_over_but_sends_the_all_clear(world):
    """A personal pager: page 1 delivered, page 2 failed (pager down), then the incident
    resolved and its all-clear failed too. When the pager works again, the all-clear is owed
    (it was paged), page 2 ("please acknowledge") is not."""
    pager = FlakyReceiver(fallback=200).start()
    try:
        channel = Channel.objects.create(
            organization=world.agency, user=world.owner, name="Owner pager", url=pager.url()
        )
        with time_machine.travel(MARCH, tick=False):
            incident = flip(world.monitor_a, MonitorState.DOWN, MARCH)
            flip(world.monitor_a, MonitorState.UP, MARCH + timedelta(minutes=30))

            def row(key: str, event: str, state: str) -> Notification:
                failed = state == NotificationState.FAILED
                return Notification.objects.create(
                    channel=channel,
                    incident=incident,
                    event=event,
                    dedup_key=key,
                    title=key,
                    body=key,
                    state=state,
                    next_attempt_at=MARCH,
                    created_at=MARCH,
                    attempts=2 if failed else 1,
                    failed_at=MARCH + timedelta(minutes=31) if failed else None,
                )

            row("page-1", EventKind.ESCALATED, NotificationState.DELIVERED)
            page_2 = row("page-2", EventKind.ESCALATED, NotificationState.FAILED)
            all_clear = row("all-clear", EventKind.RESOLVED, NotificationState.FAILED)
            Channel.objects.filter(pk=channel.pk).update(failing_since=MARCH)
        with time_machine.travel(SEPTEMBER, tick=False):
            assert channels.send_test(Channel.objects.get(pk=channel.pk), by="owner").delivered
            send_due()
            send_due()
        page_2.refresh_from_db()
        all_clear.refresh_from_db()
        assert page_2.state == NotificationState.SUPERSEDED
        assert all_clear.state == NotificationState.DELIVERED
        titles = [r.json()["title"] for r in pager.requests]
        assert "page-2" not in titles and "all-clear" in titles
    finally:
        pager.stop()


def test_it_keeps_the_order_when_a_test_recovers_the_channel_while_the_sender_works(
    world, hook, monkeypatch
):
    """The web's "send test" runs beside the sender: a test that succeeds between the
    sender's claim of "resolved" and its checks must not let "resolved" overtake "opened"."""
    with time_machine.travel(T0, tick=False) as clock:
        flip(world.monitor_a, MonitorState.DOWN, T0)
        fail_until_given_up(clock)  # "opened" failed for good; the hook is failing
        clock.shift(60)
        flip(world.monitor_a, MonitorState.UP, T0 + timedelta(seconds=70))
        flip(world.monitor_a, MonitorState.DOWN, T0 + timedelta(seconds=80))  # a flap: open
        hook.fallback = 200
        real_check = alert_order.waiting_before

        def test_sent_meanwhile(notification: Notification) -> bool:
            channels.send_test(Channel.objects.get(name="A hook"), by="owner")  # web thread
            return real_check(notification)

        monkeypatch.setattr(alert_order, "waiting_before", test_sent_meanwhile)
        sender.handle_one_notification()
        monkeypatch.setattr(alert_order, "waiting_before", real_check)
        for _ in range(3):
            send_due()
            clock.shift(60)
    alerts = [t for t in accepted(hook) if t != "info"]
    assert alerts[:1] == ["failure"]  # the opening first, whatever came after
