"""Hourly rollups: counts, failures and latency percentiles kept as results are stored."""

import itertools
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckResult, HourlyRollup
from monitoring.rollups import (
    BOUNDS_MS,
    BUCKET_COUNT,
    Tally,
    add_to_rollups,
    bucket_index,
    bucket_range,
    hour_of,
    latency_of,
    percentile,
    tally,
)

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def ok(monitor_id, at, ms):
    return Outcome(monitor_id, at, ok=True, status_code=200, response_ms=ms)


def fail(monitor_id, at, ms=None):
    return Outcome(
        monitor_id, at, ok=False, response_ms=ms, failure_class=FailureClass.TIMEOUT, message="x"
    )


def histogram(values):
    buckets = [0] * BUCKET_COUNT
    for value in values:
        buckets[bucket_index(value)] += 1
    return buckets


def test_it_has_fixed_half_octave_buckets_from_1_ms_to_65_s():
    assert BOUNDS_MS[0] == 1.0 and BOUNDS_MS[-1] == 65536.0
    assert BUCKET_COUNT == 34
    ratios = [b / a for a, b in itertools.pairwise(BOUNDS_MS)]
    assert all(math.isclose(r, math.sqrt(2)) for r in ratios)
    assert [bucket_index(ms) for ms in (0.0, 0.5, 1.0, 1.5, 100.0, 65536.0, 1e9)] == [
        0,
        0,
        1,
        2,
        14,
        33,
        33,
    ]
    low, high = bucket_range(bucket_index(100.0))
    assert low <= 100.0 < high


def test_it_interpolates_a_percentile_inside_its_bucket():
    buckets = [0] * BUCKET_COUNT
    buckets[14] = 10  # [90.5, 128) ms
    low, high = bucket_range(14)
    assert percentile(buckets, 0.5) == low + (high - low) * 0.5
    assert percentile(buckets, 1.0) == high
    assert percentile(buckets, 0.5, low=100.0, high=100.0) == 100.0  # observed min/max are exact
    assert percentile([], 0.5) is None
    assert percentile([0, 0], 0.5) is None


@time_machine.travel(T0, tick=False)
def test_it_counts_checks_failures_and_exact_percentiles_of_a_batch(world):
    m = world.monitor_a
    outcomes = [ok(m.pk, T0 + timedelta(seconds=30 * i), 100.0) for i in range(90)]
    outcomes += [ok(m.pk, T0 + timedelta(minutes=50, seconds=i), 1000.0) for i in range(10)]
    outcomes += [fail(m.pk, T0 + timedelta(minutes=55), ms=10_000.0)]
    record_results(outcomes)
    row = HourlyRollup.objects.get(monitor=m)
    assert row.hour == T0
    assert (row.checks, row.failures, row.latency_count) == (101, 1, 100)
    assert row.latency_sum_ms == 90 * 100.0 + 10 * 1000.0
    assert (row.latency_min_ms, row.latency_max_ms) == (100.0, 1000.0)
    assert sum(row.buckets) == 100  # the failure's 10 s is not a response time
    assert len(row.buckets) == bucket_index(1000.0) + 1  # trailing empty buckets left out
    latency = latency_of([row])
    assert latency.mean_ms == 190.0
    # Rank 50 of 100 lies 50/90 of the way into the bucket holding the ninety 100 ms checks;
    # rank 99 lies 9/10 into the bucket holding the ten 1000 ms checks.
    low, high = bucket_range(bucket_index(100.0))
    assert latency.p50_ms == pytest.approx(low + (high - low) * 50 / 90)
    low, high = bucket_range(bucket_index(1000.0))
    assert latency.p99_ms == pytest.approx(low + (high - low) * 9 / 10)
    assert latency.p50_ms is not None and latency.p99_ms is not None
    assert abs(latency.p50_ms - 100.0) < high - low and abs(latency.p99_ms - 1000.0) < high - low


@time_machine.travel(T0, tick=False)
def test_it_reads_exact_percentiles_when_every_check_took_the_same_time(world):
    m = world.monitor_a
    record_results([ok(m.pk, T0 + timedelta(seconds=i), 250.0) for i in range(60)])
    latency = latency_of(HourlyRollup.objects.filter(monitor=m))
    assert (latency.p50_ms, latency.p95_ms, latency.p99_ms) == (250.0, 250.0, 250.0)


@time_machine.travel(T0, tick=False)
def test_it_adds_later_batches_to_the_same_hour_without_a_query_per_result(
    world, django_assert_max_num_queries
):
    a, b = world.monitor_a, world.monitor_b
    record_results([ok(a.pk, T0, 50.0), ok(b.pk, T0, 60.0)])
    batch = [ok(a.pk, T0 + timedelta(seconds=i), 50.0) for i in range(1, 200)]
    batch += [fail(b.pk, T0 + timedelta(seconds=i)) for i in range(1, 200)]
    with django_assert_max_num_queries(6):
        add_to_rollups(batch)
    rows = {r.monitor_id: r for r in HourlyRollup.objects.all()}
    assert (rows[a.pk].checks, rows[a.pk].failures) == (200, 0)
    assert (rows[b.pk].checks, rows[b.pk].failures, rows[b.pk].latency_count) == (200, 199, 1)


@time_machine.travel(T0, tick=False)
def test_it_splits_a_batch_crossing_an_hour_boundary(world):
    m = world.monitor_a
    edge = T0 + timedelta(hours=1)
    record_results(
        [
            ok(m.pk, edge - timedelta(seconds=1), 10.0),
            fail(m.pk, edge - timedelta(microseconds=1)),
            ok(m.pk, edge, 20.0),
            ok(m.pk, edge + timedelta(minutes=59, seconds=59), 30.0),
        ]
    )
    rows = list(HourlyRollup.objects.order_by("hour"))
    assert [(r.hour, r.checks, r.failures) for r in rows] == [(T0, 2, 1), (edge, 2, 0)]
    assert rows[1].latency_min_ms == 20.0 and rows[1].latency_max_ms == 30.0


def test_it_aligns_hours_in_utc_whatever_the_zone():
    local = datetime(2026, 11, 2, 15, 45, tzinfo=ZoneInfo("Asia/Kolkata"))  # UTC+5:30
    assert hour_of(local) == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@time_machine.travel(T0, tick=False)
def test_it_counts_a_result_recorded_twice_twice(world):
    """Results are recorded once (one transaction with the raw row); a replay double counts,
    just as it would add a second raw row: rollups are not idempotent, by design."""
    m = world.monitor_a
    outcome = ok(m.pk, T0, 10.0)
    record_results([outcome])
    record_results([outcome])
    assert HourlyRollup.objects.get(monitor=m).checks == 2
    assert CheckResult.objects.filter(monitor=m).count() == 2


@time_machine.travel(T0, tick=False)
def test_it_drops_rollups_with_their_monitor(world):
    record_results([ok(world.monitor_a.pk, T0, 10.0)])
    world.monitor_a.delete()
    assert not HourlyRollup.objects.exists()


def exact_percentile(values, q):
    ordered = sorted(values)
    rank = max(math.ceil(q * len(ordered)), 1)
    return ordered[rank - 1]


latencies = st.lists(
    st.floats(min_value=0.0, max_value=120_000.0, allow_nan=False), min_size=1, max_size=300
)


@settings(max_examples=300, deadline=None)
@given(values=latencies, q=st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 1.0]))
def test_it_reads_percentiles_within_one_bucket_of_the_exact_value(values, q):
    exact = exact_percentile(values, q)
    estimate = percentile(histogram(values), q, low=min(values), high=max(values))
    low, high = bucket_range(bucket_index(exact))
    width = (high if high > low else max(values)) - low
    assert abs(estimate - exact) <= width + 1e-9


@settings(max_examples=100, deadline=None)
@given(values=latencies, split=st.integers(min_value=0, max_value=300))
def test_it_gets_the_same_rollup_from_any_split_into_batches(values, split):
    outcomes = [ok(1, T0 + timedelta(seconds=i), v) for i, v in enumerate(values)]
    whole = tally(outcomes)[(1, T0)]
    first, second = tally(outcomes[:split]), tally(outcomes[split:])
    merged = Tally()
    for part in (first, second):
        if (1, T0) in part:
            merged.merge(part[(1, T0)])
    # A float sum depends on the order of addition; everything else must match exactly.
    assert math.isclose(merged.latency_sum_ms, whole.latency_sum_ms, rel_tol=1e-12)
    assert replace(merged, latency_sum_ms=0.0) == replace(whole, latency_sum_ms=0.0)
