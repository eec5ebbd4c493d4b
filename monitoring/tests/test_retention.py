"""Retention: old raw results go, in chunks; rollups and the state-change log stay."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from monitoring import retention
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckResult, HeartbeatPing, HourlyRollup, PingKind, StateChange
from monitoring.retention import count_old_results, handle_one_retention, prune_raw_results

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def outcome(monitor_id, at, up=True):
    if up:
        return Outcome(monitor_id, at, ok=True, status_code=200, response_ms=42.0)
    return Outcome(monitor_id, at, ok=False, failure_class=FailureClass.TIMEOUT, message="slow")


def store_days(monitor_id, days, per_day=4):
    """Results every few hours over the past ``days`` days, with an outage 40 days ago."""
    step = timedelta(days=1) / per_day
    moments = [NOW - step * i for i in range(days * per_day, 0, -1)]
    outage = NOW - timedelta(days=40)
    record_results(
        [outcome(monitor_id, at, up=not (outage <= at < outage + step * 3)) for at in moments]
    )


@time_machine.travel(NOW, tick=False)
def test_it_deletes_only_raw_results_past_retention_and_keeps_rollups_and_changes(world):
    store_days(world.monitor_a.pk, 60)
    store_days(world.monitor_b.pk, 10)
    rollups, changes = HourlyRollup.objects.count(), StateChange.objects.count()
    assert changes >= 3  # up, down 40 days ago, up again
    cutoff = NOW - timedelta(days=30)
    old = CheckResult.objects.filter(checked_at__lt=cutoff).count()
    assert count_old_results(NOW, 30) == old == 30 * 4
    assert prune_raw_results(NOW, 30) == old
    assert not CheckResult.objects.filter(checked_at__lt=cutoff).exists()
    assert CheckResult.objects.filter(monitor=world.monitor_a).count() == 30 * 4
    assert CheckResult.objects.filter(monitor=world.monitor_b).count() == 10 * 4
    assert (HourlyRollup.objects.count(), StateChange.objects.count()) == (rollups, changes)


@time_machine.travel(NOW, tick=False)
def test_it_deletes_many_rows_in_bounded_chunks(world, django_assert_max_num_queries):
    old = NOW - timedelta(days=31)
    CheckResult.objects.bulk_create(
        CheckResult(monitor=world.monitor_a, checked_at=old + timedelta(seconds=i), ok=True)
        for i in range(12_345)
    )
    CheckResult.objects.create(monitor=world.monitor_a, checked_at=NOW, ok=True)
    # 3 chunks of 5,000: each a select of ids and one ranged delete (plus savepoints).
    with django_assert_max_num_queries(4 * 4):
        assert prune_raw_results(NOW, 30, chunk=5_000) == 12_345
    assert list(CheckResult.objects.values_list("checked_at", flat=True)) == [NOW]


@time_machine.travel(NOW, tick=False)
def test_it_stops_a_step_at_its_budget_and_goes_on_next_time(world, monkeypatch, settings):
    settings.SITECARE_RESULT_RETENTION_DAYS = 7
    monkeypatch.setattr(retention, "STEP_BUDGET_ROWS", 1_000)
    monkeypatch.setattr(retention, "CHUNK_ROWS", 300)
    old = NOW - timedelta(days=8)
    CheckResult.objects.bulk_create(
        CheckResult(monitor=world.monitor_a, checked_at=old + timedelta(seconds=i), ok=True)
        for i in range(2_500)
    )
    assert [handle_one_retention() for _ in range(4)] == [1_000, 1_000, 500, 0]


@time_machine.travel(NOW, tick=False)
def test_it_reads_the_retention_from_the_settings_with_30_days_by_default(settings):
    assert retention.retention_days() == 30
    settings.SITECARE_RESULT_RETENTION_DAYS = 90
    assert retention.retention_days() == 90


@time_machine.travel(NOW, tick=False)
def test_it_prunes_from_the_command_with_a_dry_run_first(world):
    store_days(world.monitor_a.pk, 40)
    out = StringIO()
    call_command("prune-results", "--days", "35", "--dry-run", stdout=out)
    assert "20 check results older than 35 days would be deleted" in out.getvalue()
    assert CheckResult.objects.count() == 160
    call_command("prune-results", "--days", "35", stdout=out)
    assert "20 check results older than 35 days deleted" in out.getvalue()
    assert CheckResult.objects.count() == 140
    with pytest.raises(CommandError):
        call_command("prune-results", "--days", "0")


@time_machine.travel(NOW, tick=False)
def test_it_reads_one_chunk_only_when_nothing_is_old(world, django_assert_num_queries):
    CheckResult.objects.bulk_create(
        CheckResult(monitor=world.monitor_a, checked_at=NOW - timedelta(seconds=i), ok=True)
        for i in range(3_000)
    )
    with django_assert_num_queries(1):
        assert prune_raw_results(NOW, 30, chunk=1_000) == 0
    assert CheckResult.objects.count() == 3_000


@time_machine.travel(NOW, tick=False)
def test_it_deletes_an_old_result_stored_late_among_recent_ones(world):
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=29)
    make = [old, old, recent, old, recent]  # the third old one was stored late
    CheckResult.objects.bulk_create(
        CheckResult(monitor=world.monitor_a, checked_at=at, ok=True) for at in make
    )
    assert prune_raw_results(NOW, 30, chunk=2) == 3
    assert set(CheckResult.objects.values_list("checked_at", flat=True)) == {recent}


@time_machine.travel(NOW, tick=False)
def test_it_prunes_old_heartbeat_pings_but_keeps_each_monitors_latest_of_a_kind(world):
    def ping(monitor, kind, days_ago):
        return HeartbeatPing.objects.create(
            monitor=monitor, kind=kind, received_at=NOW - timedelta(days=days_ago)
        )

    a, b = world.monitor_a, world.monitor_b
    old_a = [ping(a, PingKind.SUCCESS, 60 - i) for i in range(5)]  # 60..56 days ago
    last_fail_a = ping(a, PingKind.FAIL, 45)  # old, but the latest failure of monitor A
    recent_a = ping(a, PingKind.SUCCESS, 1)
    last_b = ping(b, PingKind.SUCCESS, 90)  # a job that stopped pinging long ago

    assert handle_one_retention() == 5
    kept = set(HeartbeatPing.objects.values_list("pk", flat=True))
    assert kept == {last_fail_a.pk, recent_a.pk, last_b.pk}
    assert not kept & {p.pk for p in old_a}
    assert handle_one_retention() == 0
