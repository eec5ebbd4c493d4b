"""Heartbeat (push) monitors: tokens, options, schedule math, the ping endpoint, the verdict."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone, translation
from pydantic import ValidationError

from incidents.models import Incident, IncidentState
from monitoring import heartbeats, ping_gate, views
from monitoring.checks import heartbeat
from monitoring.engine import store
from monitoring.engine.core import ProbeEngine
from monitoring.failures import FailureClass
from monitoring.heartbeats import Facts, RateLimiter, judge, next_cron_tick
from monitoring.logic import record_results
from monitoring.models import CheckKind, HeartbeatPing, Monitor, MonitorState, PingKind
from monitoring.spec import parse_monitor
from sitecare.lib import messages

# The endpoint is tested where sitecare mounts it, among all its pages (a 404 renders the
# site's own page, whose navigation links to them).
URLCONF = "sitecare.urls"

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture(autouse=True)
def _fresh_endpoint_state(monkeypatch: pytest.MonkeyPatch) -> None:
    views.TOKENS.clear()
    monkeypatch.setattr(views, "RATE", RateLimiter())


def make_heartbeat(world: Any, created: datetime = T0, **options: Any) -> Monitor:
    return Monitor.objects.create(
        site=world.site_a,
        name=f"Backup {Monitor.objects.count()}",
        kind=CheckKind.HEARTBEAT,
        url=heartbeat.new_token(),
        config=heartbeat.Options.model_validate(options).model_dump(exclude_defaults=True),
        confirm_down=1,
        confirm_up=1,
        created_at=created,
    )


def opts(**options: Any) -> heartbeat.Options:
    return heartbeat.Options.model_validate(options)


# --- target and options -----------------------------------------------------------------------


def test_it_makes_a_secret_token_for_an_empty_target_and_keeps_a_valid_one():
    token = heartbeat.new_token()
    assert len(token) == 32 and heartbeat.normalize_target(token) == token
    assert heartbeat.new_token() != token
    assert heartbeat.normalize_target("") == ""  # "keep the stored token, or make one"
    assert heartbeat.target_host(token) is None
    for bad in ("short", "x" * 65, "a/b" * 10, "https://example.com/ping/abc"):
        with pytest.raises(ValueError):
            heartbeat.normalize_target(bad)


@pytest.mark.parametrize(
    "options",
    [
        {"period": 3600, "cron": "0 3 * * *"},
        {"cron": "not a cron"},
        {"cron": "0 0 3 * * *"},  # six fields (seconds)
        {"cron": "0 3 * * *", "time_zone": "Mars/Olympus"},
        {"period": 3600, "time_zone": "Europe/Warsaw"},
        {"period": 10},
        {"grace": -1},
        {"every": 5},
    ],
)
def test_it_refuses_bad_options(options):
    with pytest.raises(ValidationError):
        heartbeat.Options.model_validate(options)


def test_it_is_defined_flat_like_every_kind():
    token = heartbeat.new_token()
    data: dict[str, Any] = {
        "name": "Backup",
        "kind": "heartbeat",
        "url": token,
        "cron": "0 3 * * *",
    }
    data |= {"time_zone": "Europe/Warsaw", "grace": 1800, "max_runtime": 600}
    definition = parse_monitor(data, [])
    assert definition.common.url == token
    assert definition.options == {
        "cron": "0 3 * * *",
        "time_zone": "Europe/Warsaw",
        "grace": 1800,
        "max_runtime": 600,
    }


def test_it_expects_a_daily_ping_by_default():
    assert opts().period_s == 86_400 and opts().grace == 3_600


# --- schedule math (time pinned where the clock is read) --------------------------------------


def test_it_is_late_only_after_period_plus_grace():
    options = opts(period=3600, grace=300)
    never = Facts(created_at=T0)
    assert judge(1, options, never, T0 + timedelta(seconds=3900)).ok
    late = judge(1, options, never, T0 + timedelta(seconds=3901))
    assert not late.ok and late.failure_class == FailureClass.HEARTBEAT_LATE
    assert "No ping yet" in late.message
    pinged = Facts(
        created_at=T0, last_signal_at=T0 + timedelta(minutes=10), last_signal_kind="success"
    )
    assert judge(1, options, pinged, T0 + timedelta(seconds=600 + 3900)).ok
    late = judge(1, options, pinged, T0 + timedelta(seconds=600 + 3901))
    assert late.failure_class == FailureClass.HEARTBEAT_LATE
    # The moments are kept as data, shown in the reader's zone (sitecare.lib.messages).
    _text, _code, args = messages.stored(late.message, 500)
    assert args == {
        "last": {"$datetime": "2026-11-02T10:10:00+00:00"},
        "deadline": {"$datetime": "2026-11-02T11:15:00+00:00"},
    }


def test_it_follows_a_cron_schedule_in_its_time_zone_across_spring_forward():
    # 03:00 in Warsaw: 02:00Z on Saturday, 01:00Z on Sunday 29 March 2026 (CEST begins): 23 h.
    options = opts(cron="0 3 * * *", time_zone="Europe/Warsaw", grace=600)
    pinged = datetime(2026, 3, 28, 2, 0, 30, tzinfo=UTC)
    facts = Facts(created_at=T0, last_signal_at=pinged, last_signal_kind="success")
    deadline = datetime(2026, 3, 29, 1, 10, tzinfo=UTC)
    assert judge(1, options, facts, deadline).ok
    late = judge(1, options, facts, deadline + timedelta(seconds=1))
    assert late.failure_class == FailureClass.HEARTBEAT_LATE
    _text, code, args = messages.stored(late.message, 500)
    assert args["deadline"] == {"$datetime": "2026-03-29T03:10:00+02:00"}
    with translation.override("en"), timezone.override(WARSAW):
        assert "by 29 Mar 2026, 03:10." in messages.render(code, args)


def test_it_places_a_skipped_time_after_the_jump_and_a_repeated_time_once():
    spring = next_cron_tick("30 2 * * *", WARSAW, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST: 02:30 never was
    first = next_cron_tick("30 2 * * *", WARSAW, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first one
    after_it = next_cron_tick("30 2 * * *", WARSAW, first + timedelta(minutes=1))
    assert after_it == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # not 02:30 CET the same night


def test_it_reports_a_failure_with_its_exit_code_until_the_next_success():
    options = opts(period=3600, grace=60)
    failed = Facts(
        created_at=T0, last_signal_at=T0, last_signal_kind=PingKind.FAIL, last_exit_code=3
    )
    outcome = judge(1, options, failed, T0 + timedelta(seconds=5))
    assert outcome.failure_class == FailureClass.HEARTBEAT_FAILED
    assert "exit code 3" in outcome.message
    no_code = judge(1, options, Facts(T0, T0, PingKind.FAIL), T0)
    assert no_code.failure_class == FailureClass.HEARTBEAT_FAILED
    assert judge(1, options, Facts(T0, T0, PingKind.SUCCESS, 0), T0).ok


def test_it_is_late_when_a_started_run_overruns_max_runtime():
    options = opts(period=3600, grace=600, max_runtime=120)
    started = Facts(
        created_at=T0,
        last_signal_at=T0,
        last_signal_kind=PingKind.SUCCESS,
        last_start_at=T0 + timedelta(seconds=10),
    )
    assert judge(1, options, started, T0 + timedelta(seconds=130)).ok
    late = judge(1, options, started, T0 + timedelta(seconds=131))
    assert late.failure_class == FailureClass.HEARTBEAT_LATE and "120 s" in late.message
    finished = Facts(T0, T0 + timedelta(seconds=50), PingKind.SUCCESS, None, started.last_start_at)
    assert judge(1, options, finished, T0 + timedelta(seconds=500)).ok


# --- the endpoint -----------------------------------------------------------------------------


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_stores_start_success_fail_and_exit_code_signals(world, client):
    monitor = make_heartbeat(world)
    token = monitor.url
    calls = [
        ("get", f"/ping/{token}/start", PingKind.START, None),
        ("post", f"/ping/{token}", PingKind.SUCCESS, None),
        ("head", f"/ping/{token}", PingKind.SUCCESS, None),
        ("get", f"/ping/{token}/fail", PingKind.FAIL, None),
        ("post", f"/ping/{token}/0", PingKind.SUCCESS, 0),
        ("get", f"/ping/{token}/3", PingKind.FAIL, 3),
    ]
    for method, url, _kind, _code in calls:
        response = getattr(client, method)(url, HTTP_USER_AGENT="curl/8")
        assert response.status_code == 200, url
    stored = list(monitor.pings.order_by("pk").values_list("kind", "exit_code", "user_agent"))
    assert stored == [(kind, code, "curl/8") for _m, _u, kind, code in calls]
    assert client.get(f"/ping/{token}/256").status_code == 404
    assert client.put(f"/ping/{token}").status_code == 405
    assert monitor.pings.count() == len(calls)


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_answers_404_for_an_unknown_or_malformed_token(world, client):
    make_heartbeat(world)
    assert client.get(f"/ping/{heartbeat.new_token()}").status_code == 404
    assert client.get("/ping/short").status_code == 404
    http_monitor = world.monitor_a  # a token-shaped URL of another kind never matches
    assert client.get(f"/ping/{http_monitor.pk:032d}").status_code == 404
    assert HeartbeatPing.objects.count() == 0


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_stops_accepting_a_token_once_it_was_changed(world, client):
    monitor = make_heartbeat(world)
    old = monitor.url
    assert client.get(f"/ping/{old}").status_code == 200
    Monitor.objects.filter(pk=monitor.pk).update(url=heartbeat.new_token())
    assert client.get(f"/ping/{old}").status_code == 404
    assert monitor.pings.count() == 1


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_truncates_the_body_to_1_kib(world, client):
    monitor = make_heartbeat(world)
    body = "log line\n" * 5000
    response = client.post(f"/ping/{monitor.url}/fail", data=body, content_type="text/plain")
    assert response.status_code == 200
    stored = monitor.pings.get()
    assert stored.body == body[: heartbeats.MAX_BODY_BYTES]
    assert stored.remote_addr == "127.0.0.1"


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_answers_429_to_a_token_pinging_too_fast(world, client, monkeypatch):
    monkeypatch.setattr(views, "RATE", RateLimiter(rate=0.001, burst=2))
    monitor = make_heartbeat(world)
    codes = [client.get(f"/ping/{monitor.url}").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    response = client.get(f"/ping/{monitor.url}")
    assert response["Retry-After"] == "1"
    assert monitor.pings.count() == 2


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_answers_503_and_stores_nothing_when_the_database_is_busy(world, client, monkeypatch):
    monitor = make_heartbeat(world)

    def locked(*args: Any) -> bool:
        raise OperationalError("database is locked")

    monkeypatch.setattr(views, "record_ping", locked)
    response = client.get(f"/ping/{monitor.url}")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert monitor.pings.count() == 0


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_answers_503_when_its_turn_to_write_does_not_come(world, client, monkeypatch):
    monitor = make_heartbeat(world)
    monkeypatch.setattr(ping_gate, "TURN_WAIT_S", 0.05)
    views.GATE.enter()  # another ping's write holds the turn longer than the wait
    assert client.get(f"/ping/{monitor.url}").status_code == 503
    views.GATE.leave(ping_gate.Outcome.STORED)
    assert client.get(f"/ping/{monitor.url}").status_code == 200


# --- evaluation: late → down → incident, ping → up --------------------------------------------


def evaluate_at(moment: datetime) -> list[Any]:
    with time_machine.travel(moment, tick=False):
        outcomes = heartbeats.evaluate(moment)
        record_results(outcomes)
    return outcomes


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_goes_down_when_late_opens_an_incident_and_recovers_on_a_ping(world, client):
    monitor = make_heartbeat(world, period=3600, grace=300)
    assert [o.ok for o in evaluate_at(T0 + timedelta(minutes=1))] == [True]
    assert evaluate_at(T0 + timedelta(seconds=90)) == []  # unchanged: nothing recorded
    late = evaluate_at(T0 + timedelta(seconds=3901))
    assert [o.failure_class for o in late] == [FailureClass.HEARTBEAT_LATE]
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN
    assert Incident.objects.get(monitor=monitor).state == IncidentState.OPEN

    pinged_at = T0 + timedelta(seconds=4000)
    with time_machine.travel(pinged_at, tick=False):
        assert client.get(f"/ping/{monitor.url}").status_code == 200
    assert [o.ok for o in evaluate_at(pinged_at + timedelta(seconds=10))] == [True]
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.UP
    assert Incident.objects.get(monitor=monitor).state == IncidentState.RESOLVED


@override_settings(ROOT_URLCONF=URLCONF)
def test_it_goes_down_on_a_fail_ping_and_keeps_confirming_at_the_step_pace(world, client):
    monitor = make_heartbeat(world, period=3600)
    Monitor.objects.filter(pk=monitor.pk).update(confirm_down=2)
    evaluate_at(T0 + timedelta(minutes=1))
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        assert client.get(f"/ping/{monitor.url}/1").status_code == 200
    first = evaluate_at(T0 + timedelta(minutes=2, seconds=10))
    assert [o.failure_class for o in first] == [FailureClass.HEARTBEAT_FAILED]
    assert "exit code 1" in first[0].message
    evaluate_at(T0 + timedelta(minutes=2, seconds=20))  # a flip awaits: recorded again
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN and monitor.last_failure_class == "heartbeat_failed"


def test_it_records_a_steady_verdict_once_an_interval(world):
    monitor = make_heartbeat(world, period=3600)
    Monitor.objects.filter(pk=monitor.pk).update(interval_s=60)
    assert len(evaluate_at(T0 + timedelta(seconds=10))) == 1
    assert evaluate_at(T0 + timedelta(seconds=60)) == []
    assert len(evaluate_at(T0 + timedelta(seconds=70))) == 1


def test_it_leaves_heartbeats_out_of_the_probe_schedule(world):
    monitor = make_heartbeat(world)
    assert monitor.pk not in store.load_targets()
    assert world.monitor_a.pk in store.load_targets()


def test_it_judges_a_monitor_with_broken_options_as_unable_to_check(world):
    monitor = make_heartbeat(world)
    Monitor.objects.filter(pk=monitor.pk).update(config={"cron": "nonsense"})
    outcomes = evaluate_at(T0 + timedelta(seconds=10))
    assert [o.failure_class for o in outcomes] == [FailureClass.INTERNAL_ERROR]


def test_it_builds_the_ping_url_from_the_base_url(settings):
    settings.SITECARE_BASE_URL = "https://care.example"
    assert heartbeats.ping_url("t" * 32, "start") == f"https://care.example/ping/{'t' * 32}/start"


@pytest.mark.django_db(transaction=True)
def test_it_is_judged_by_the_probe_engine_step(world):
    monitor = make_heartbeat(world, created=timezone.now() - timedelta(days=2))

    async def one_step() -> int:
        engine = ProbeEngine()
        try:
            return await engine.handle_one_heartbeats()
        finally:
            await engine.shutdown()

    assert asyncio.run(one_step()) == 1
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN
    assert monitor.last_failure_class == FailureClass.HEARTBEAT_LATE
