"""The ping log: each monitor keeps its newest pings (its latest of each kind whatever their
age), a body excerpt of at most 1 KiB, and the sender's address as seen through trusted
proxies only."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from monitoring import heartbeats, views
from monitoring.checks import heartbeat
from monitoring.heartbeats import Ping, RateLimiter, forget_old_pings, record_ping
from monitoring.models import HeartbeatPing, PingKind
from monitoring.tests.test_heartbeat import URLCONF, make_heartbeat

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_endpoint_state(monkeypatch: pytest.MonkeyPatch) -> None:
    views.TOKENS.clear()
    monkeypatch.setattr(views, "RATE", RateLimiter(rate=1000, burst=1000))


def test_it_keeps_the_newest_pings_and_the_latest_of_each_kind(world):
    monitor = make_heartbeat(world)
    other = make_heartbeat(world)
    assert record_ping(monitor.pk, monitor.url, Ping(kind=PingKind.START))
    assert record_ping(monitor.pk, monitor.url, Ping(kind=PingKind.FAIL, exit_code=2))
    assert record_ping(other.pk, other.url, Ping(kind=PingKind.SUCCESS))
    for _ in range(heartbeats.KEPT_PINGS + 5):
        assert record_ping(monitor.pk, monitor.url, Ping(kind=PingKind.SUCCESS))
    kinds = list(monitor.pings.values_list("kind", flat=True))
    # The newest 100, plus the start and the failure that are still their kind's latest.
    assert len(kinds) == heartbeats.KEPT_PINGS + 2
    assert kinds.count(PingKind.START) == 1 and kinds.count(PingKind.FAIL) == 1
    assert other.pings.count() == 1  # another monitor's pings are not touched
    assert forget_old_pings(monitor.pk) == 0


def test_it_deletes_only_past_the_limit(world):
    monitor = make_heartbeat(world)
    for _ in range(3):
        record_ping(monitor.pk, monitor.url, Ping(kind=PingKind.SUCCESS))
    assert forget_old_pings(monitor.pk, keep=3) == 0
    assert monitor.pings.count() == 3
    assert forget_old_pings(monitor.pk, keep=2) == 1
    assert monitor.pings.count() == 2


@override_settings(ROOT_URLCONF=URLCONF, SITECARE_TRUSTED_PROXIES=())
def test_it_ignores_x_forwarded_for_from_an_untrusted_peer(world, client):
    monitor = make_heartbeat(world)
    response = client.get(
        f"/ping/{monitor.url}", HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_USER_AGENT="cron/1"
    )
    assert response.status_code == 200
    ping = monitor.pings.get()
    assert (ping.remote_addr, ping.user_agent) == ("127.0.0.1", "cron/1")


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_believes_x_forwarded_for_from_a_trusted_proxy(world, client, settings):
    settings.SITECARE_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1/32"),)
    monitor = make_heartbeat(world)
    spoofed = "198.51.100.7, 203.0.113.9"  # the leftmost entry is the client's own claim
    assert client.get(f"/ping/{monitor.url}", HTTP_X_FORWARDED_FOR=spoofed).status_code == 200
    assert monitor.pings.get().remote_addr == "203.0.113.9"


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_keeps_at_most_one_kib_of_a_body(world, client):
    monitor = make_heartbeat(world)
    body = "żółw " * 1000  # multi-byte characters cut at the limit do not break the text
    response = client.post(f"/ping/{monitor.url}/3", data=body, content_type="text/plain")
    assert response.status_code == 200
    stored = monitor.pings.get()
    assert (stored.kind, stored.exit_code) == (PingKind.FAIL, 3)
    assert len(stored.body.encode()) <= heartbeats.MAX_BODY_BYTES + 3
    assert stored.body.startswith("żółw żółw")


def test_it_spares_the_latest_of_a_kind_even_when_old(world):
    monitor = make_heartbeat(world)
    HeartbeatPing.objects.create(
        monitor=monitor, received_at=T0 - timedelta(days=9), kind=PingKind.START
    )
    HeartbeatPing.objects.bulk_create(
        HeartbeatPing(monitor=monitor, received_at=T0 + timedelta(minutes=i), kind="success")
        for i in range(10)
    )
    # Past the newest four: six successes and the start, which is still its kind's latest.
    assert forget_old_pings(monitor.pk, keep=4) == 6
    assert monitor.pings.filter(kind=PingKind.START).count() == 1
    assert monitor.pings.count() == 5


def test_it_never_speaks_of_a_last_ping_before_the_first():
    options = heartbeat.Options.model_validate({"period": 3600, "grace": 300})
    waiting = heartbeats.judge(1, options, heartbeats.Facts(created_at=T0), T0 + timedelta(hours=1))
    assert waiting.ok and waiting.message.startswith("No ping yet; the first is expected by")
    assert "Last ping" not in waiting.message
    pinged = heartbeats.Facts(T0, T0, PingKind.SUCCESS)
    assert heartbeats.judge(1, options, pinged, T0).message.startswith("Last ping at")
