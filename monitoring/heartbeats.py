"""Heartbeats: store a job's pings durably, and judge each heartbeat monitor from its pings.

Pings are stored by the web endpoint (``monitoring.views.ping``); the probe engine calls
:func:`handle_one_evaluation` on its database thread, which turns "no ping in time" or "the job
reported a failure" into ordinary check outcomes, so confirmation, state changes and incidents
work as for every other kind.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from pydantic import ValidationError

from monitoring.checks.heartbeat import Options
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckKind, HeartbeatPing, Monitor, MonitorState, PingKind
from sitecare.lib.messages import deferred as _

# What a ping's body keeps (a log tail's last lines, say), and how many pings a monitor keeps.
MAX_BODY_BYTES = 1_024
MAX_USER_AGENT = 200
KEPT_PINGS = 100
# Ticks looked at past a time before giving up: a repeated DST hour of a per-minute job is 60.
MAX_CRON_STEPS = 1_000
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Ping:
    """A signal as received, before it is stored."""

    kind: str
    exit_code: int | None = None
    body: str = ""
    remote_addr: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class Facts:
    """What the verdict needs to know about one monitor's pings."""

    created_at: datetime
    last_signal_at: datetime | None = None  # the latest success or failure
    last_signal_kind: str = ""
    last_exit_code: int | None = None
    last_start_at: datetime | None = None


# --- receiving pings --------------------------------------------------------------------------


class TokenIndex:
    """Secret ping token → monitor id, held in memory by each web process.

    ``Monitor.url`` has no index, so a lookup in SQL would scan every monitor; a dict hashes the
    token with the process's secret hash key instead of comparing it character by character.
    An unknown token reloads the index, at most once per ``min_reload_s`` (junk tokens cannot
    turn into a query each); the stored token is compared again when the ping is written.
    """

    def __init__(self, min_reload_s: float = 1.0) -> None:
        self.min_reload_s = min_reload_s
        self._ids: dict[str, int] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def find(self, token: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            found = self._ids.get(token)
            recent = self._loaded_at is not None and now - self._loaded_at < self.min_reload_s
            if found is not None or recent:
                return found
            rows = Monitor.objects.filter(kind=CheckKind.HEARTBEAT).values_list("url", "pk")
            self._ids = dict(rows)
            self._loaded_at = now
            return self._ids.get(token)

    def forget(self, token: str) -> None:
        with self._lock:
            self._ids.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._ids, self._loaded_at = {}, None


def clip(text: str, limit: int) -> str:
    return text[:limit]


def record_ping(monitor_id: int, token: str, ping: Ping) -> bool:
    """Store one ping in its own transaction; False if the token no longer names the monitor.

    1. Read the monitor's current token and compare it in constant time (the index may be
       stale after a token was changed or the monitor deleted).
    2. Insert the ping; the monitor's first ping ever is also noted on the monitor (the SLA
       counts its time before it as unknown).
    3. Drop the monitor's pings past the newest ``KEPT_PINGS`` (its latest of each kind
       stays: the verdict reads them). Returning means the commit succeeded, so the caller
       may answer 200.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            Monitor.objects.filter(pk=monitor_id, kind=CheckKind.HEARTBEAT)
            .values_list("url", "first_ping_at")
            .first()
        )
        if row is None or not hmac.compare_digest(row[0].encode(), token.encode()):
            return False
        if row[1] is None:
            Monitor.objects.filter(pk=monitor_id, first_ping_at__isnull=True).update(
                first_ping_at=now
            )
        HeartbeatPing.objects.create(
            monitor_id=monitor_id,
            received_at=now,
            kind=ping.kind,
            exit_code=ping.exit_code,
            body=ping.body,
            remote_addr=clip(ping.remote_addr, 64),
            user_agent=clip(ping.user_agent, MAX_USER_AGENT),
        )
        forget_old_pings(monitor_id)
    return True


def forget_old_pings(monitor_id: int, keep: int = KEPT_PINGS) -> int:
    """Delete a monitor's pings older than its newest ``keep``, sparing its latest of each
    kind; return how many went (one indexed seek when there is nothing to delete)."""
    mine = HeartbeatPing.objects.filter(monitor_id=monitor_id)
    edge = mine.order_by("-pk").values_list("pk", flat=True)[keep : keep + 1].first()
    if edge is None:
        return 0
    latest = [
        mine.filter(kind=kind).order_by("-received_at", "-pk").values_list("pk", flat=True).first()
        for kind in PingKind.values
    ]
    old = mine.filter(pk__lte=edge).exclude(pk__in=[pk for pk in latest if pk is not None])
    deleted, _per_model = old.delete()
    return deleted


class RateLimiter:
    """A token bucket per ping token, in memory: ``rate`` pings a second, bursts of ``burst``."""

    def __init__(self, rate: float = 10.0, burst: float = 20.0, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()  # bounded memory; forgetting only ever lets pings through
            level, at = self._buckets.get(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            allowed = level >= 1.0
            self._buckets[key] = (level - 1.0 if allowed else level, now)
            return allowed


# --- schedule math ----------------------------------------------------------------------------


def next_cron_tick(expression: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first tick of a cron schedule, read on the zone's wall clock, strictly after ``after``.

    1. Step through the ticks on the local wall clock (no DST arithmetic inside croniter).
    2. Place each on the timeline with ``fold=0``: a time skipped by a spring-forward jump
       lands just after the jump (02:30 → 03:30), a time repeated in autumn counts once, at
       its first occurrence (as cron daemons run fixed-time jobs).
    3. Return the first that lies after ``after``.
    """
    local = after.astimezone(zone).replace(tzinfo=None)
    ticks = croniter(expression, local)
    for _step in range(MAX_CRON_STEPS):
        naive: datetime = ticks.get_next(datetime)
        tick = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if tick > after:
            return tick
    raise ValueError(f"cron expression {expression!r} has no tick after {after.isoformat()}")


def next_expected(options: Options, reference: datetime) -> datetime:
    """When the ping after one received (or a monitor created) at ``reference`` is due."""
    if options.cron is not None:
        return next_cron_tick(options.cron, options.zone, reference)
    return reference + timedelta(seconds=options.period_s)


# --- the verdict ------------------------------------------------------------------------------


def when(moment: datetime, zone: ZoneInfo) -> datetime:
    """A moment of a verdict, kept as a moment: the message shows it in its reader's zone."""
    return moment.astimezone(zone)


def judge(monitor_id: int, options: Options, facts: Facts, now: datetime) -> Outcome:
    """The monitor's outcome now.

    1. The latest result the job reported was a failure → heartbeat_failed.
    2. The job started (``/start``) and sent no result within ``max_runtime`` → heartbeat_late.
    3. No ping by the next expected time plus grace (counted from the latest result, or from
       the monitor's creation before any) → heartbeat_late.
    4. Otherwise up.
    """
    zone = options.zone if options.cron else UTC_ZONE
    if facts.last_signal_kind == PingKind.FAIL:
        return _failed(monitor_id, facts, now, zone)
    overrun = _overrun(monitor_id, options, facts, now, zone)
    if overrun is not None:
        return overrun
    reference = facts.last_signal_at or facts.created_at
    deadline = next_expected(options, reference) + timedelta(seconds=options.grace)
    details = {"last_ping": _iso(facts.last_signal_at), "expected_by": deadline.isoformat()}
    if now <= deadline:
        if facts.last_signal_at is None:  # waiting for the first: there is no "last ping"
            message = _("No ping yet; the first is expected by %(deadline)s.")
        else:
            message = _("Last ping at %(last)s; the next is expected by %(deadline)s.")
        shown = {"last": when(reference, zone), "deadline": when(deadline, zone)}
        return Outcome(monitor_id, now, ok=True, message=message % shown, details=details)
    if facts.last_signal_at is None:
        message = _("No ping yet; the first was expected by %(deadline)s.")
    else:
        message = _("No ping since %(last)s; one was expected by %(deadline)s.")
    return Outcome(
        monitor_id,
        now,
        ok=False,
        failure_class=FailureClass.HEARTBEAT_LATE,
        message=message % {"last": when(reference, zone), "deadline": when(deadline, zone)},
        details=details,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _failed(monitor_id: int, facts: Facts, now: datetime, zone: ZoneInfo) -> Outcome:
    assert facts.last_signal_at is not None
    shown = {"at": when(facts.last_signal_at, zone), "code": facts.last_exit_code}
    if facts.last_exit_code is None:
        message = _("The job reported a failure at %(at)s.") % shown
    else:
        message = _("The job reported a failure at %(at)s, exit code %(code)d.") % shown
    details = {"last_ping": _iso(facts.last_signal_at), "exit_code": facts.last_exit_code}
    return Outcome(
        monitor_id,
        now,
        ok=False,
        failure_class=FailureClass.HEARTBEAT_FAILED,
        message=message,
        details=details,
    )


def _overrun(
    monitor_id: int, options: Options, facts: Facts, now: datetime, zone: ZoneInfo
) -> Outcome | None:
    """A late outcome if a started run has gone past ``max_runtime`` without a result."""
    started = facts.last_start_at
    if options.max_runtime is None or started is None:
        return None
    if facts.last_signal_at is not None and facts.last_signal_at >= started:
        return None
    limit = started + timedelta(seconds=options.max_runtime)
    if now <= limit:
        return None
    message = _("The job started at %(at)s and reported no result within %(limit)d s.")
    return Outcome(
        monitor_id,
        now,
        ok=False,
        failure_class=FailureClass.HEARTBEAT_LATE,
        message=message % {"at": when(started, zone), "limit": options.max_runtime},
        details={"started_at": started.isoformat(), "max_runtime": options.max_runtime},
    )


# --- the engine's step ------------------------------------------------------------------------


def _latest(kind: str) -> Subquery:
    """The pk of a monitor's latest ping of one kind: one seek in the (monitor, kind, time)
    index (an ``IN`` of kinds would sort all of a monitor's pings instead)."""
    pings = HeartbeatPing.objects.filter(monitor=OuterRef("pk"), kind=kind)
    return Subquery(pings.order_by("-received_at", "-pk").values("pk")[:1])


def load_facts() -> list[tuple[Monitor, Facts]]:
    """Every enabled heartbeat monitor with the facts about its latest pings (three queries)."""
    monitors = Monitor.objects.filter(kind=CheckKind.HEARTBEAT, enabled=True).in_bulk()
    rows = list(
        Monitor.objects.filter(pk__in=list(monitors))
        .order_by()
        .annotate(**{kind: _latest(kind) for kind in PingKind.values})
        .values_list("pk", *PingKind.values)
    )
    pings = HeartbeatPing.objects.in_bulk([pk for row in rows for pk in row[1:] if pk])
    result = []
    for pk, *latest in rows:
        found = {kind: pings[p] for kind, p in zip(PingKind.values, latest, strict=True) if p}
        results = [found[k] for k in (PingKind.SUCCESS, PingKind.FAIL) if k in found]
        signal = max(results, key=lambda p: (p.received_at, p.pk), default=None)
        start = found.get(PingKind.START)
        facts = Facts(
            created_at=monitors[pk].created_at,
            last_signal_at=signal.received_at if signal else None,
            last_signal_kind=signal.kind if signal else "",
            last_exit_code=signal.exit_code if signal else None,
            last_start_at=start.received_at if start else None,
        )
        result.append((monitors[pk], facts))
    return result


def _worth_recording(monitor: Monitor, outcome: Outcome, now: datetime) -> bool:
    """Record a verdict when it changed, while a flip awaits confirmation, or once an interval.

    Re-recording while confirming lets ``confirm_down``/``confirm_up`` count at the pace of
    the evaluation step instead of the (long) interval; between changes one result per
    interval keeps the charts fed without a row every few seconds.
    """
    if monitor.last_checked_at is None:
        return True
    if (monitor.last_ok, monitor.last_failure_class) != (outcome.ok, outcome.failure_class):
        return True
    if (monitor.state == MonitorState.DOWN) == bool(monitor.last_ok):
        return True  # the latest result disagrees with the state: a flip awaits confirmation
    return now - monitor.last_checked_at >= timedelta(seconds=monitor.interval_s)


def evaluate(now: datetime) -> list[Outcome]:
    """The outcomes to record now for every enabled heartbeat monitor."""
    outcomes = []
    for monitor, facts in load_facts():
        try:
            options = Options.model_validate(monitor.config_for_engine())
            outcome = judge(monitor.pk, options, facts, now)
        except (ValidationError, ValueError) as exc:
            message = _("Invalid options: %(error)s") % {"error": str(exc)[:200]}
            outcome = Outcome(
                monitor.pk,
                now,
                ok=False,
                failure_class=FailureClass.INTERNAL_ERROR,
                message=message,
            )
        if _worth_recording(monitor, outcome, now):
            outcomes.append(outcome)
    return outcomes


def handle_one_evaluation() -> int:
    """Judge every heartbeat monitor and record what changed; return the outcomes recorded."""
    close_old_connections()
    outcomes = evaluate(timezone.now())
    record_results(outcomes)
    return len(outcomes)


def ping_url(token: str, signal: str = "") -> str:
    """The URL a job pings (``signal``: "", "start", "fail" or an exit code)."""
    suffix = f"/{signal}" if signal else ""
    return f"{settings.SITECARE_BASE_URL}/ping/{token}{suffix}"
