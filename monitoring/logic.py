"""Monitoring's domain functions: store check results and flip monitor states."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db import transaction

from incidents import logic as incident_logic
from incidents.models import Incident, IncidentState
from monitoring.failures import FailureClass
from monitoring.models import CheckResult, Monitor, MonitorState, StateChange
from monitoring.rollups import add_to_rollups
from monitoring.streaks import Streak, advance
from sitecare.lib import messages
from sitecare.lib.bulksql import BulkWriter

# Columns the engine owns. UI/API saves of a monitor must not write these (use update_fields).
# The streak columns, saved after every batch (state and state_since change only in a flip).
STREAK_FIELDS = (
    "streak_ok",
    "streak_count",
    "streak_since",
    "last_checked_at",
    "last_ok",
    "last_response_ms",
    "last_failure_class",
    "last_message",
    "last_message_code",
    "last_message_args",
)
STATE_FIELDS = ["state", "state_since", *STREAK_FIELDS]
RESULT_FIELDS = (
    "monitor",
    "checked_at",
    "ok",
    "status_code",
    "response_ms",
    "failure_class",
    "message",
    "message_code",
    "message_args",
    "dns_ms",
    "connect_ms",
    "tls_ms",
    "ttfb_ms",
    "details",
)
# SQLite refuses statements with more bound parameters than this (older builds: 999).
_IN_CHUNK = 900


@dataclass(frozen=True)
class Outcome:
    """What one check found (the engine's output, the store's input)."""

    monitor_id: int
    checked_at: datetime
    ok: bool
    status_code: int | None = None
    response_ms: float | None = None
    failure_class: str = FailureClass.NONE
    message: str = ""
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    details: dict[str, Any] | None = None


_RESULTS = BulkWriter(CheckResult, RESULT_FIELDS)
_STREAKS = BulkWriter(Monitor, STREAK_FIELDS)
_STATES = BulkWriter(Monitor, ("state", "state_since"))


@dataclass(slots=True)
class _Tracked:
    """One monitor's stored streak while a batch of its results is applied."""

    streak: Streak
    since: datetime | None
    confirm_down: int
    confirm_up: int
    last: Outcome | None = None


def _load_tracked(monitor_ids: Iterable[int]) -> dict[int, _Tracked]:
    """The stored streaks of these monitors (only the columns the rules need)."""
    ids = sorted(monitor_ids)
    tracked: dict[int, _Tracked] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        rows = Monitor.objects.filter(pk__in=ids[i : i + _IN_CHUNK]).values_list(
            "pk", "state", "streak_ok", "streak_count", "streak_since", "confirm_down", "confirm_up"
        )
        for pk, state, streak_ok, count, since, confirm_down, confirm_up in rows:
            tracked[pk] = _Tracked(Streak(state, streak_ok, count), since, confirm_down, confirm_up)
    return tracked


def _flip(
    monitor_id: int, old_state: str, new_state: str, at: datetime, outcome: Outcome
) -> StateChange | None:
    """Flip one monitor by conditional UPDATE; write the state change and its incident work.

    The flip is dated ``at``, the start of the streak that confirmed it: an outage begins with
    its first failed check, not with the check that confirmed it.
    """
    changed = Monitor.objects.filter(pk=monitor_id, state=old_state).update(
        state=new_state, state_since=at
    )
    if changed != 1:
        return None
    monitor = Monitor.objects.select_related("site__client__organization").get(pk=monitor_id)
    change = StateChange.objects.create(
        monitor=monitor,
        at=at,
        from_state=old_state,
        to_state=new_state,
        failure_class="" if outcome.ok else outcome.failure_class,
        message="" if outcome.ok else outcome.message,
    )
    incident_logic.on_state_change(change, detected_at=outcome.checked_at)
    return change


def forget_state(monitor_id: int, at: datetime) -> StateChange | None:
    """Make the monitor unknown from ``at``, so that its next checks decide its state (a
    monitor resumed after a pause: what it was before says nothing about now).

    1. By conditional UPDATE from the state read: the state, its time, and the streak
       cleared (the next result starts a new one, as for a new monitor); a monitor already
       unknown only has its streak cleared.
    2. The state change (``old → unknown``, dated ``at``), through the incident hook like
       every flip. An open incident stays open: the first success after the resume resolves
       it (an unknown monitor's first success makes it up at once), confirmed failures keep
       it open without a new alert (``incidents.logic.open_incident`` returns the open one).
    None when nothing changed (already unknown, deleted, or someone flipped it first).
    """
    cleared = {"streak_ok": None, "streak_count": 0, "streak_since": None}
    with transaction.atomic():
        old = Monitor.objects.filter(pk=monitor_id).values_list("state", flat=True).first()
        if old is None:
            return None
        if old == MonitorState.UNKNOWN:
            Monitor.objects.filter(pk=monitor_id, state=old).update(**cleared)
            return None
        changed = Monitor.objects.filter(pk=monitor_id, state=old).update(
            state=MonitorState.UNKNOWN, state_since=at, **cleared
        )
        if changed != 1:
            return None
        monitor = Monitor.objects.select_related("site__client__organization").get(pk=monitor_id)
        change = StateChange.objects.create(
            monitor=monitor, at=at, from_state=old, to_state=MonitorState.UNKNOWN
        )
        incident_logic.on_state_change(change, detected_at=at)
    return change


# Monitors whose first success makes them up, flipped together at the end of a batch: a new
# monitor's first up is no outage, and thousands of them arrive at once after an import.
FirstUps = dict[int, tuple[datetime, datetime]]


def _apply(
    tracked: _Tracked,
    monitor_id: int,
    outcome: Outcome,
    first_ups: FirstUps,
    flush_first_ups: Callable[[], None],
) -> StateChange | None:
    """Advance one monitor's streak by one outcome; flip it when the streak confirms a state."""
    streak = advance(tracked.streak, outcome.ok, tracked.confirm_down, tracked.confirm_up)
    if streak.streak_count == 1:
        tracked.since = outcome.checked_at
    tracked.last = outcome
    change = None
    if streak.state != tracked.streak.state:
        at = tracked.since or outcome.checked_at
        if tracked.streak.state == MonitorState.UNKNOWN and streak.state == MonitorState.UP:
            first_ups[monitor_id] = (at, outcome.checked_at)
        else:
            if monitor_id in first_ups:
                flush_first_ups()  # this flip starts from the stored up state
            change = _flip(monitor_id, tracked.streak.state, streak.state, at, outcome)
            if change is None:
                # Someone else changed the state meanwhile (an edit, a reset): theirs stands.
                stored = Monitor.objects.values_list("state", flat=True).get(pk=monitor_id)
                streak = Streak(stored, streak.streak_ok, streak.streak_count)
    tracked.streak = streak
    return change


def _with_open_incident(monitor_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for i in range(0, len(monitor_ids), _IN_CHUNK):
        found.update(
            Incident.objects.filter(
                monitor_id__in=monitor_ids[i : i + _IN_CHUNK], state=IncidentState.OPEN
            ).values_list("monitor_id", flat=True)
        )
    return found


def _flip_first_ups(first_ups: FirstUps, tracked: dict[int, _Tracked]) -> list[StateChange]:
    """Flip monitors from unknown to up in bulk: one read, one update, one insert.

    1. Keep those still unknown in the database (an edit may have reset or flipped one).
    2. Set their state, and write their state changes, dated at their first success.
    3. A monitor reset to unknown while its incident was open gets that incident resolved,
       as any up flip would (rare: one by one).
    """
    ids = sorted(first_ups)
    unknown: set[int] = set()
    for i in range(0, len(ids), _IN_CHUNK):
        unknown.update(
            Monitor.objects.select_for_update()
            .filter(pk__in=ids[i : i + _IN_CHUNK], state=MonitorState.UNKNOWN)
            .values_list("pk", flat=True)
        )
    _STATES.update((MonitorState.UP, first_ups[pk][0], pk) for pk in sorted(unknown))
    changes = StateChange.objects.bulk_create(
        StateChange(
            monitor_id=pk,
            at=first_ups[pk][0],
            from_state=MonitorState.UNKNOWN,
            to_state=MonitorState.UP,
        )
        for pk in sorted(unknown)
    )
    open_ids = _with_open_incident(sorted(unknown))
    for change in changes:
        if change.monitor_id in open_ids:
            change.monitor = Monitor.objects.select_related("site__client__organization").get(
                pk=change.monitor_id
            )
            incident_logic.on_state_change(change, detected_at=first_ups[change.monitor_id][1])
    for pk in set(ids) - unknown:
        stored = Monitor.objects.values_list("state", flat=True).get(pk=pk)
        streak = tracked[pk].streak
        tracked[pk].streak = Streak(stored, streak.streak_ok, streak.streak_count)
    first_ups.clear()
    return changes


def _result_row(o: Outcome) -> tuple[Any, ...]:
    return (
        o.monitor_id,
        o.checked_at,
        o.ok,
        o.status_code,
        o.response_ms,
        o.failure_class,
        *messages.stored(o.message, 500),
        o.dns_ms,
        o.connect_ms,
        o.tls_ms,
        o.ttfb_ms,
        o.details or None,
    )


def _streak_row(monitor_id: int, t: _Tracked) -> tuple[Any, ...]:
    last = t.last
    assert last is not None  # only monitors with an outcome in the batch are saved
    return (
        t.streak.streak_ok,
        t.streak.streak_count,
        t.since,
        last.checked_at,
        last.ok,
        last.response_ms,
        last.failure_class,
        *messages.stored(last.message, 500),
        monitor_id,
    )


def record_results(outcomes: Sequence[Outcome]) -> list[StateChange]:
    """Store a batch of results and evaluate every affected monitor, in one transaction.

    1. Read the stored streaks of the monitors in the batch (a few columns, no models).
    2. Insert the raw results and add them to their hourly rollups, by prepared statements.
    3. Walk the outcomes in time order, advancing each monitor's streak; flip monitors whose
       streak confirms a new state (state change, incident, outbox rows).
    4. Save the streak columns of all touched monitors in one prepared statement.
    Outcomes for monitors deleted meanwhile are dropped.
    """
    if not outcomes:
        return []
    flips: list[StateChange] = []
    first_ups: FirstUps = {}
    with transaction.atomic():
        tracked = _load_tracked({o.monitor_id for o in outcomes})

        def flush_first_ups() -> None:
            flips.extend(_flip_first_ups(first_ups, tracked))

        kept = [o for o in outcomes if o.monitor_id in tracked]
        _RESULTS.insert(_result_row(o) for o in kept)
        add_to_rollups(kept)
        for o in sorted(kept, key=attrgetter("checked_at")):
            change = _apply(tracked[o.monitor_id], o.monitor_id, o, first_ups, flush_first_ups)
            if change is not None:
                flips.append(change)
        flush_first_ups()
        _STREAKS.update(_streak_row(pk, t) for pk, t in tracked.items() if t.last is not None)
    flips.sort(key=attrgetter("at"))
    return flips
