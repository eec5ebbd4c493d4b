"""The alert sender delivers the outbox to real local receivers, retries, gives up visibly."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation

from incidents import outbox, sender
from incidents.logic import open_incident, resolve_incident
from incidents.models import (
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    Notification,
    NotificationState,
)
from incidents.tests.receivers import SmtpReceiver, WebhookReceiver, free_port, point_channel
from monitoring.failures import FailureClass
from monitoring.models import Monitor, MonitorState, StateChange

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp():
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def alert_settings(settings):
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 10.0
    settings.SITECARE_ALERT_MAX_ATTEMPTS = 3
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    return settings


def open_outage(monitor: Monitor, at: datetime) -> Incident:
    change = StateChange.objects.create(
        monitor=monitor,
        at=at,
        from_state=MonitorState.UP,
        to_state=MonitorState.DOWN,
        failure_class=FailureClass.HTTP_STATUS,
        message="HTTP 503",
    )
    return open_incident(monitor, change, detected_at=at)


def send_due() -> int:
    return sender.process_due(threading.Event())


def test_it_delivers_an_alert_to_a_json_webhook_with_its_dedup_key(world, webhook):
    channel = point_channel(world, webhook.url("/alerts"))
    with time_machine.travel(T0, tick=False):
        incident = open_outage(world.monitor_a, T0)
        assert send_due() == 1

    notification = Notification.objects.get(incident=incident)
    [request] = webhook.requests
    payload = request.json()
    assert request.path == "/alerts"
    assert payload["title"] == notification.title
    assert payload["message"] == notification.body
    assert f"Reference: {notification.dedup_key}" in payload["message"]
    assert request.headers[sender.DEDUP_HEADER] == notification.dedup_key
    assert payload["type"] == "failure"
    assert notification.state == NotificationState.DELIVERED
    assert notification.delivered_at == T0
    assert notification.attempts == 1
    channel.refresh_from_db()
    assert channel.last_success_at == T0
    assert not channel.is_failing
    assert IncidentEvent.objects.filter(
        incident=incident, kind=EventKind.NOTIFICATION_SENT, message__contains="A hook"
    ).exists()


def test_it_delivers_an_alert_by_email_to_an_smtp_server(world, smtp):
    point_channel(world, smtp.url("ops@example.com"))
    incident = open_outage(world.monitor_a, T0)
    change = StateChange.objects.create(
        monitor=world.monitor_a,
        at=T0 + timedelta(minutes=5),
        from_state=MonitorState.DOWN,
        to_state=MonitorState.UP,
    )
    resolve_incident(world.monitor_a, change, detected_at=T0 + timedelta(minutes=5))

    assert send_due() == 2

    assert smtp.wait_for(2)
    sent = Notification.objects.filter(incident=incident).order_by("pk")
    assert [n.state for n in sent] == [NotificationState.DELIVERED] * 2
    for notification, message in zip(sent, smtp.messages, strict=True):
        assert message["Subject"] == notification.title
        assert message["To"] == "ops@example.com"
        assert message[sender.DEDUP_HEADER] == notification.dedup_key
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        assert f"Reference: {notification.dedup_key}" in body.get_content()


def test_it_retries_with_backoff_until_the_receiver_accepts(world, webhook, alert_settings):
    channel = point_channel(world, webhook.url())
    webhook.answer(500, 500)
    with time_machine.travel(T0, tick=False) as clock:
        incident = open_outage(world.monitor_a, T0)
        notification = Notification.objects.get(incident=incident)

        assert send_due() == 1
        notification.refresh_from_db()
        channel.refresh_from_db()
        assert (notification.state, notification.attempts) == (NotificationState.PENDING, 1)
        assert notification.next_attempt_at == T0 + timedelta(seconds=10)
        assert "500" in notification.last_error
        assert channel.is_failing
        assert "500" in channel.last_error
        assert channel.last_error_at == T0

        clock.shift(9)
        assert send_due() == 0  # not due yet

        clock.shift(1)
        assert send_due() == 1
        notification.refresh_from_db()
        assert notification.attempts == 2
        assert notification.next_attempt_at == T0 + timedelta(seconds=10 + 20)

        clock.shift(20)
        assert send_due() == 1

    notification.refresh_from_db()
    channel.refresh_from_db()
    assert notification.state == NotificationState.DELIVERED
    assert notification.attempts == 3
    assert len(webhook.requests) == 3
    assert {r.headers[sender.DEDUP_HEADER] for r in webhook.requests} == {notification.dedup_key}
    assert channel.consecutive_failures == 0
    assert channel.last_success_at == T0 + timedelta(seconds=30)


def test_it_gives_up_after_the_last_attempt_and_shows_the_channel_failing(
    world, webhook, alert_settings
):
    channel = point_channel(world, webhook.url())
    webhook.answer(500, 500, 500)
    with time_machine.travel(T0, tick=False) as clock:
        incident = open_outage(world.monitor_a, T0)
        for _ in range(3):
            assert send_due() == 1
            clock.shift(3600)
        assert send_due() == 0

    notification = Notification.objects.get(incident=incident)
    channel.refresh_from_db()
    assert notification.state == NotificationState.FAILED
    assert notification.attempts == 3
    assert "500" in notification.last_error
    assert channel.consecutive_failures == 3
    assert channel.is_failing
    assert "500" in channel.last_error
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.NOTIFICATION_FAILED)
    assert "A hook" in event.message
    assert len(webhook.requests) == 3


def test_it_never_sends_a_delivered_notification_again(world, webhook):
    point_channel(world, webhook.url())
    with time_machine.travel(T0, tick=False) as clock:
        open_outage(world.monitor_a, T0)
        assert sender.run(threading.Event(), once=True) == 1
        for _ in range(3):
            clock.shift(timedelta(days=1))
            # A fresh loop, as after a restart.
            assert sender.run(threading.Event(), once=True) == 0
    assert len(webhook.requests) == 1


def test_it_runs_once_as_a_command(world, webhook):
    point_channel(world, webhook.url())
    open_outage(world.monitor_a, T0)
    call_command("alert-sender", "--once")
    assert len(webhook.requests) == 1
    assert Notification.objects.get().state == NotificationState.DELIVERED


def test_it_leaves_a_claimed_notification_alone_until_its_lease_ends(world, alert_settings):
    open_outage(world.monitor_a, T0)
    claimed = sender.claim_due(T0)
    assert claimed is not None
    assert claimed.attempts == 1

    # In flight (or its sender died mid-send): nobody else may take it before the lease ends.
    lease = timedelta(seconds=outbox.lease_seconds())
    assert sender.claim_due(T0 + lease - timedelta(seconds=1)) is None
    again = sender.claim_due(T0 + lease)
    assert again is not None
    assert (again.pk, again.attempts) == (claimed.pk, 2)


def test_it_sends_nothing_before_it_is_due(world, webhook):
    point_channel(world, webhook.url())
    open_outage(world.monitor_a, T0)
    Notification.objects.update(next_attempt_at=T0 + timedelta(minutes=1))
    assert sender.claim_due(T0) is None
    assert sender.claim_due(T0 + timedelta(minutes=1)) is not None


def test_it_keeps_channel_secrets_out_of_errors_and_logs(world, alert_settings, caplog):
    port = free_port()  # nothing listens: the connection is refused
    secret_url = f"json://robot:Pa55w0rdXyz@127.0.0.1:{port}/hooks/t0kenSecret42?-key=qu3rySecret"
    channel = point_channel(world, secret_url)
    caplog.set_level(logging.DEBUG)
    open_outage(world.monitor_a, T0)

    assert send_due() == 1

    notification = Notification.objects.get()
    channel.refresh_from_db()
    assert notification.last_error
    texts = [notification.last_error, channel.last_error, caplog.text]
    for secret in ("Pa55w0rdXyz", "t0kenSecret42", "qu3rySecret"):
        assert all(secret not in text for text in texts), secret


def test_it_records_an_invalid_channel_url_as_a_failed_attempt(world, alert_settings):
    channel = point_channel(world, "nosuchservice://whatever")
    open_outage(world.monitor_a, T0)

    assert send_due() == 1

    notification = Notification.objects.get()
    channel.refresh_from_db()
    assert notification.state == NotificationState.PENDING
    assert "not a valid Apprise URL" in notification.last_error
    assert channel.is_failing


def test_it_fails_a_notification_of_a_disabled_channel_at_once(world, webhook):
    channel = point_channel(world, webhook.url())
    open_outage(world.monitor_a, T0)
    Channel.objects.filter(pk=channel.pk).update(enabled=False)

    assert send_due() == 1

    notification = Notification.objects.get()
    assert notification.state == NotificationState.FAILED
    assert notification.last_error == "The channel is disabled."
    assert webhook.requests == []


def test_it_writes_errors_in_the_agency_language(world):
    world.agency.language = "pl"
    world.agency.save()
    open_outage(world.monitor_a, T0)
    Channel.objects.update(enabled=False)

    send_due()

    with translation.override("pl"):
        expected = translation.gettext("The channel is disabled.")
    assert Notification.objects.get().last_error == expected


def test_it_stops_before_the_next_notification_when_asked(world, webhook):
    point_channel(world, webhook.url())
    open_outage(world.monitor_a, T0)
    stop = threading.Event()
    stop.set()
    assert sender.run(stop) == 0
    assert webhook.requests == []


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [(1, 15.0), (2, 30.0), (3, 60.0), (8, 1920.0), (9, 3600.0), (5000, 3600.0)],
)
def test_it_doubles_the_backoff_up_to_an_hour(settings, attempts, expected):
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 15.0
    assert outbox.backoff_seconds(attempts) == expected


@pytest.mark.parametrize("receiver", ["webhook", "smtp"])
def test_it_refuses_to_deliver_where_the_agencys_network_policy_denies(
    world, webhook, smtp, alert_settings, receiver
):
    """Scheduled alerts are held to the SSRF guard like checks: no allowlist, no loopback."""
    url = webhook.url("/alerts") if receiver == "webhook" else smtp.url("ops@example.com")
    point_channel(world, url, allowlist="")
    with time_machine.travel(T0, tick=False):
        incident = open_outage(world.monitor_a, T0)
        assert send_due() == 1
    notification = Notification.objects.get(incident=incident)
    assert notification.state == NotificationState.PENDING
    assert "not allowed by the network policy" in notification.last_error
    assert webhook.requests == [] and smtp.messages == []
