"""Hourly rollups: per monitor and UTC hour, the checks, failures and a latency histogram.

The histogram has fixed, log-spaced buckets: half-octaves (each bound √2 times the previous)
from 1 ms to 2¹⁶ ms ≈ 65.5 s, plus one bucket below 1 ms and one above 65.5 s, 34 in all.
Bucket ``i`` (for ``1 <= i <= 32``) holds response times in ``[BOUNDS_MS[i-1], BOUNDS_MS[i])``;
bucket 0 holds ``[0, 1)`` ms and bucket 33 everything from ``BOUNDS_MS[-1]`` up. A percentile
read from it lies within one bucket's width (±41 %) of the exact value, and the observed
minimum and maximum narrow the end buckets. Histograms of any hours simply add up, so a day's
or a month's percentiles come from the same rows.

Results are recorded once (the engine stores each outcome in one transaction with its rollup):
feeding the same outcome twice counts it twice, as it would in the raw table.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from monitoring.models import HourlyRollup
from sitecare.lib.bulksql import BulkWriter

# Stored histograms are counts per index into these bounds: changing them needs a migration.
BOUNDS_MS: tuple[float, ...] = tuple(2 ** (k / 2) for k in range(33))
BUCKET_COUNT = len(BOUNDS_MS) + 1
# SQLite refuses statements with more bound parameters than this (older builds: 999).
_IN_CHUNK = 900


class Observation(Protocol):
    """What a rollup needs of one check result (``monitoring.logic.Outcome`` fits)."""

    @property
    def monitor_id(self) -> int: ...

    @property
    def checked_at(self) -> datetime: ...

    @property
    def ok(self) -> bool: ...

    @property
    def response_ms(self) -> float | None: ...


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour that contains ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bucket_index(ms: float) -> int:
    """The histogram bucket of a response time (negative times count as 0 ms)."""
    return bisect.bisect_right(BOUNDS_MS, max(ms, 0.0))


def bucket_range(index: int) -> tuple[float, float]:
    """The ``[low, high)`` bounds of a bucket; the last one's high is its low (no end)."""
    low = 0.0 if index == 0 else BOUNDS_MS[index - 1]
    high = BOUNDS_MS[index] if index < len(BOUNDS_MS) else low
    return low, high


def percentile(
    buckets: Sequence[int], q: float, *, low: float | None = None, high: float | None = None
) -> float | None:
    """The ``q``-quantile (0 ≤ q ≤ 1) of a histogram, ``None`` when it is empty.

    1. Find the bucket holding the value of rank ``q × n`` (counting from the smallest).
    2. Interpolate linearly inside that bucket by how far into it the rank falls.
    3. Keep the answer within the observed ``low``/``high`` when given: they are exact.
    """
    total = sum(buckets)
    if total <= 0:
        return None
    rank = min(max(q, 0.0), 1.0) * total
    index, fraction = _locate(buckets, rank)
    start, end = bucket_range(index)
    if index == len(BOUNDS_MS) and high is not None:
        end = max(high, start)  # the open-ended bucket ends at the slowest check seen
    value = start + (end - start) * fraction
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def _locate(buckets: Sequence[int], rank: float) -> tuple[int, float]:
    """The bucket where the running count first reaches ``rank``, and how far into it."""
    seen = 0
    last = 0
    for index, count in enumerate(buckets):
        if not count:
            continue
        if seen + count >= rank:
            return index, max(rank - seen, 0.0) / count
        seen += count
        last = index
    return last, 1.0


def add_histograms(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """The sum of two histograms of any (trimmed) lengths."""
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    summed = list(longer)
    for index, count in enumerate(shorter):
        summed[index] += count
    return summed


def _trimmed(buckets: list[int]) -> list[int]:
    """Drop trailing empty buckets: most monitors fill a few low ones, never the tail."""
    end = len(buckets)
    while end and not buckets[end - 1]:
        end -= 1
    return buckets[:end]


@dataclass
class Tally:
    """Checks of one monitor in one hour, as counted so far."""

    checks: int = 0
    failures: int = 0
    latency_count: int = 0
    latency_sum_ms: float = 0.0
    latency_min_ms: float | None = None
    latency_max_ms: float | None = None
    buckets: list[int] = field(default_factory=list)

    def add(self, observation: Observation) -> None:
        """Count one result; only a successful check's response time enters the latency."""
        self.checks += 1
        if not observation.ok:
            self.failures += 1
            return
        ms = observation.response_ms
        if ms is None:
            return
        self.latency_count += 1
        self.latency_sum_ms += ms
        self.latency_min_ms = ms if self.latency_min_ms is None else min(self.latency_min_ms, ms)
        self.latency_max_ms = ms if self.latency_max_ms is None else max(self.latency_max_ms, ms)
        index = bucket_index(ms)
        if len(self.buckets) <= index:
            self.buckets.extend([0] * (index + 1 - len(self.buckets)))
        self.buckets[index] += 1

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one (a stored row's, or a later batch's)."""
        self.checks += other.checks
        self.failures += other.failures
        self.latency_count += other.latency_count
        self.latency_sum_ms += other.latency_sum_ms
        self.latency_min_ms = _least(self.latency_min_ms, other.latency_min_ms)
        self.latency_max_ms = _most(self.latency_max_ms, other.latency_max_ms)
        self.buckets = _trimmed(add_histograms(self.buckets or [], other.buckets))


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


Key = tuple[int, datetime]
# The counted columns, in the order of Tally's fields.
COUNTED = [
    "checks",
    "failures",
    "latency_count",
    "latency_sum_ms",
    "latency_min_ms",
    "latency_max_ms",
    "buckets",
]


def tally(observations: Iterable[Observation]) -> dict[Key, Tally]:
    """Count a batch of results per (monitor, UTC hour), in memory."""
    tallies: dict[Key, Tally] = {}
    for observation in observations:
        key = (observation.monitor_id, hour_of(observation.checked_at))
        tallies.setdefault(key, Tally()).add(observation)
    return tallies


def _existing(keys: Iterable[Key]) -> dict[Key, tuple[int, Tally]]:
    """The stored rows among ``keys`` as (id, counts): one query per 900 monitors."""
    key_set = set(keys)
    monitor_ids = sorted({monitor_id for monitor_id, _hour in key_set})
    hours = [hour for _monitor, hour in key_set]
    span = {"hour__gte": min(hours), "hour__lte": max(hours)}
    found: dict[Key, tuple[int, Tally]] = {}
    for i in range(0, len(monitor_ids), _IN_CHUNK):
        # A batch spans an hour or two, so the range over-reads little; FOR UPDATE keeps two
        # writers on PostgreSQL from losing each other's counts (SQLite has one writer).
        rows = (
            HourlyRollup.objects.select_for_update()
            .filter(monitor_id__in=monitor_ids[i : i + _IN_CHUNK], **span)
            .values_list("pk", "monitor_id", "hour", *COUNTED)
        )
        for pk, monitor_id, hour, *counts in rows:
            if (monitor_id, hour) in key_set:
                found[(monitor_id, hour)] = (pk, Tally(*counts))
    return found


_INSERT = BulkWriter(HourlyRollup, ["monitor", "hour", *COUNTED])
_UPDATE = BulkWriter(HourlyRollup, COUNTED)


def _counted_values(counts: Tally) -> list[Any]:
    return [getattr(counts, name) for name in COUNTED]


def _write(created: list[tuple[Key, Tally]], updated: list[tuple[int, Tally]]) -> None:
    """Insert new rows and overwrite changed ones, one prepared statement each."""
    _UPDATE.update([*_counted_values(c), pk] for pk, c in updated)
    _INSERT.insert([m, h, *_counted_values(c)] for (m, h), c in created)


def add_to_rollups(observations: Sequence[Observation]) -> int:
    """Add a batch of results to their hourly rows; return how many rows were written.

    1. Tally the batch per (monitor, UTC hour) in memory.
    2. Read the rows that already exist for those keys, in one query (per 900 monitors).
    3. Merge the tallies into them; write changed and new rows with one statement each.
    Call it inside the transaction that stores the raw results, so both agree.
    """
    tallies = tally(observations)
    if not tallies:
        return 0
    existing = _existing(tallies)
    created: list[tuple[Key, Tally]] = []
    updated: list[tuple[int, Tally]] = []
    for key, counts in tallies.items():
        if key in existing:
            pk, stored = existing[key]
            stored.merge(counts)
            updated.append((pk, stored))
        else:
            counts.buckets = _trimmed(counts.buckets)
            created.append((key, counts))
    _write(created, updated)
    return len(created) + len(updated)


@dataclass(frozen=True)
class Latency:
    """Response-time figures of some hours of one monitor (successful checks)."""

    count: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def latency_of(rows: Iterable[HourlyRollup]) -> Latency:
    """Median, 95th and 99th percentile and mean over several hourly rows, merged."""
    buckets: list[int] = []
    count, total = 0, 0.0
    low: float | None = None
    high: float | None = None
    for row in rows:
        buckets = add_histograms(buckets, row.buckets or [])
        count += row.latency_count
        total += row.latency_sum_ms
        low, high = _least(low, row.latency_min_ms), _most(high, row.latency_max_ms)
    return Latency(
        count=count,
        mean_ms=total / count if count else None,
        p50_ms=percentile(buckets, 0.50, low=low, high=high),
        p95_ms=percentile(buckets, 0.95, low=low, high=high),
        p99_ms=percentile(buckets, 0.99, low=low, high=high),
    )
