"""Page speed results in the store: the measurement row (once), its longer retention, and the
minor incident that K budget failures in a row open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction

from incidents.models import Incident
from incidents.models.core import Severity
from monitoring.checks import kind_spec, speed
from monitoring.checks.speed import known_environments
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckKind, CheckResult, Monitor, MonitorState, SpeedMeasurement
from monitoring.retention import handle_one_retention

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MEDIAN = {
    "lcp_ms": 3100.0,
    "cls": 0.02,
    "tbt_ms": 80.0,
    "fcp_ms": 900.0,
    "ttfb_ms": 45.0,
    "bytes": 420_000,
    "requests": 12,
}


def speed_monitor(world) -> Monitor:
    return Monitor.objects.create(
        site=world.site_a,
        name="Home speed",
        kind=CheckKind.SPEED,
        url="https://a.example/",
        config={"budgets": {"lcp_ms": 2500}},
        critical=False,
    )


def measured(monitor: Monitor, at: datetime, *, broken: bool = True) -> Outcome:
    return Outcome(
        monitor.pk,
        at,
        ok=not broken,
        response_ms=MEDIAN["lcp_ms"],
        failure_class=FailureClass.BUDGET_EXCEEDED if broken else FailureClass.NONE,
        message="over budget" if broken else "",
        details={
            "profile": "mobile",
            "runs": 3,
            "median": MEDIAN,
            "budgets": {"lcp_ms": 2500},
            "broken": ["lcp_ms"] if broken else [],
            "heaviest": [{"url": "https://a.example/hero.jpg", "bytes": 300_000, "type": "Image"}],
            "environment": {
                "browser": "150.0.7871.100",
                "cpu_score": 2208.4,
                "key": "mobile/chromium-150/cpu-2208",
            },
        },
    )


def record(outcome: Outcome) -> None:
    """As the job layer does: the result and the extra record in one transaction."""
    extra = kind_spec(CheckKind.SPEED).record_extra
    assert extra is not None
    with transaction.atomic():
        record_results([outcome])
        extra(outcome)


def test_it_writes_one_measurement_per_check_even_when_called_twice(world):
    monitor = speed_monitor(world)
    outcome = measured(monitor, AT)
    record(outcome)
    speed.record_extra(outcome)  # a retried job: no second row
    row = SpeedMeasurement.objects.get(monitor=monitor)
    assert row.measured_at == AT
    assert (row.lcp_ms, row.cls, row.bytes, row.requests) == (3100.0, 0.02, 420_000, 12)
    assert row.environment == "mobile/chromium-150/cpu-2208"
    assert (row.browser_version, row.cpu_score, row.profile, row.runs) == (
        "150.0.7871.100",
        2208.4,
        "mobile",
        3,
    )
    assert row.heaviest[0]["url"] == "https://a.example/hero.jpg"
    assert row.broken == ["lcp_ms"]
    assert CheckResult.objects.filter(monitor=monitor).count() == 1


def test_it_keeps_nothing_of_a_check_whose_page_did_not_load(world):
    monitor = speed_monitor(world)
    failed = Outcome(
        monitor.pk, AT, ok=False, failure_class=FailureClass.NAVIGATION_TIMEOUT, message="late"
    )
    record(failed)
    assert not SpeedMeasurement.objects.exists()


def test_it_opens_a_minor_incident_after_the_usual_confirmation(world):
    monitor = speed_monitor(world)
    for i in range(monitor.confirm_down - 1):
        record(measured(monitor, AT + timedelta(minutes=10 * i)))
    assert not Incident.objects.filter(monitor=monitor).exists()
    record(measured(monitor, AT + timedelta(minutes=10 * monitor.confirm_down)))
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN
    incident = Incident.objects.get(monitor=monitor)
    assert incident.severity == Severity.MINOR
    assert incident.failure_class == FailureClass.BUDGET_EXCEEDED
    # Other kinds' incidents keep opening as major.
    for i in range(world.monitor_a.confirm_down):
        record_results(
            [
                Outcome(
                    world.monitor_a.pk,
                    AT + timedelta(minutes=i),
                    ok=False,
                    failure_class=FailureClass.TIMEOUT,
                )
            ]
        )
    assert Incident.objects.get(monitor=world.monitor_a).severity == Severity.MAJOR


def test_it_keeps_measurements_longer_than_raw_results(world, settings):
    settings.SITECARE_RESULT_RETENTION_DAYS = 30
    settings.SITECARE_SPEED_RETENTION_DAYS = 100
    monitor = speed_monitor(world)
    now = AT + timedelta(days=200)
    for age in (150, 95, 40, 1):
        record(measured(monitor, now - timedelta(days=age), broken=False))
    with time_machine.travel(now, tick=False):
        handle_one_retention()
    assert sorted(
        (now - row.measured_at).days for row in SpeedMeasurement.objects.filter(monitor=monitor)
    ) == [1, 40, 95]
    assert CheckResult.objects.filter(monitor=monitor).count() == 1  # only the 1-day-old one


def test_it_knows_the_environments_of_the_trend_period(world):
    monitor = speed_monitor(world)
    record(measured(monitor, AT, broken=False))
    assert known_environments("mobile", AT + timedelta(days=1)) == ["mobile/chromium-150/cpu-2208"]
    assert known_environments("mobile", AT + timedelta(days=91)) == []
    assert known_environments("desktop", AT + timedelta(days=1)) == []
