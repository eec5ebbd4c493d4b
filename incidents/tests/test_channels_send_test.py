"""'Send test': a real message through the alerts' own path, to agency members only, inside the
network policy; a success ends the channel's failing episode."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from api.tests.conftest import ApiCaller
from front.tests.conftest import signed_in
from incidents import sender
from incidents.models import Channel, Incident, Notification, NotificationState
from incidents.tests.receivers import WebhookReceiver
from tenancy.models import ApiToken

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hook(world, webhook, settings) -> Channel:
    """Client A's hook on the local receiver; the agency may reach loopback."""
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    channel = Channel.objects.get(name="A hook")
    channel.url = webhook.url("/test-hook")
    channel.save()
    return channel


def api_for(user) -> ApiCaller:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiCaller(raw)


def test_it_sends_a_test_message_from_the_channel_page(world, webhook, hook):
    page = reverse("front:channel", args=[hook.pk])
    response = signed_in(world.engineer).post(page, {"action": "test"}, follow=True)
    assert response.status_code == 200
    assert "The test message was delivered." in response.content.decode()
    [request] = webhook.requests
    assert request.path == "/test-hook"
    assert request.json()["title"] == "[TEST] sitecare: A hook"
    assert "engineer" in request.json()["message"]
    assert request.headers[sender.DEDUP_HEADER].startswith(f"sitecare-test-channel-{hook.pk}-")
    assert not Notification.objects.exists()  # interactive: not an outbox row
    hook.refresh_from_db()
    assert hook.last_success_at is not None


def test_it_sends_a_test_message_through_the_api(world, webhook, hook):
    response = api_for(world.owner).post(f"/channels/{hook.pk}/test", {})
    assert response.status_code == 200
    assert response.json() == {"delivered": True, "error": ""}
    assert len(webhook.requests) == 1


def test_it_shows_why_a_test_message_failed_without_the_secret(world, webhook, hook):
    hook.url = webhook.url("/t0kenSecret42")
    hook.save()
    webhook.answer(401)
    response = api_for(world.owner).post(f"/channels/{hook.pk}/test", {})
    body = response.json()
    assert body["delivered"] is False
    assert "401" in body["error"]
    assert "t0kenSecret42" not in body["error"]
    page = reverse("front:channel", args=[hook.pk])
    webhook.answer(500)
    html = signed_in(world.owner).post(page, {"action": "test"}, follow=True).content.decode()
    assert "The test message was not delivered" in html
    assert "t0kenSecret42" not in html


def test_it_refuses_addresses_the_network_policy_denies(world, webhook, hook):
    world.agency.ssrf_allowlist = ""
    world.agency.save()
    response = api_for(world.owner).post(f"/channels/{hook.pk}/test", {})
    assert response.json() == {
        "delivered": False,
        "error": "Address 127.0.0.1 is not allowed by the network policy.",
    }
    assert webhook.requests == []


def test_it_lets_only_agency_members_send_tests(world, webhook, hook):
    page = reverse("front:channel", args=[hook.pk])
    assert signed_in(world.client_a_user).post(page, {"action": "test"}).status_code == 403
    assert signed_in(world.client_b_user).post(page, {"action": "test"}).status_code == 404
    assert api_for(world.client_a_user).post(f"/channels/{hook.pk}/test", {}).status_code == 403
    assert api_for(world.client_b_user).post(f"/channels/{hook.pk}/test", {}).status_code == 404
    assert webhook.requests == []


def test_it_ends_a_failing_episode_when_a_test_succeeds(world, webhook, hook):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=T0)
    waiting = Notification.objects.create(
        channel=hook,
        incident=incident,
        event="opened",
        dedup_key="waiting-1",
        title="t",
        body="b",
        attempts=5,
        next_attempt_at=T0 + timedelta(minutes=30),
        created_at=T0,
    )
    Channel.objects.filter(pk=hook.pk).update(failing_since=T0, consecutive_failures=5)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert api_for(world.owner).post(f"/channels/{hook.pk}/test", {}).json()["delivered"]
        assert sender.process_due(threading.Event()) == 1  # the waiting alert goes out now
    hook.refresh_from_db()
    waiting.refresh_from_db()
    assert hook.failing_since is None
    assert not hook.is_failing
    assert waiting.state == NotificationState.DELIVERED
    assert [r.headers[sender.DEDUP_HEADER] for r in webhook.requests][1:] == ["waiting-1"]
