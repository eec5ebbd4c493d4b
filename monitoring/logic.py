"""Monitoring's domain functions: store check results and flip monitor states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from incidents import logic as incident_logic
from monitoring.failures import FailureClass
from monitoring.models import CheckResult, Monitor, MonitorState, StateChange
from monitoring.rollups import add_to_rollups

# Columns the engine owns. UI/API saves of a monitor must not write these (use update_fields).
STATE_FIELDS = [
    "state",
    "state_since",
    "streak_ok",
    "streak_count",
    "streak_since",
    "last_checked_at",
    "last_ok",
    "last_response_ms",
    "last_failure_class",
    "last_message",
]


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


def _next_state(monitor: Monitor, outcome: Outcome) -> str | None:
    """The state the monitor flips to after this outcome, or None to stay.

    1. A first success of a never-checked monitor makes it up at once: there is nothing to
       confirm and nobody to alert.
    2. Otherwise a flip needs ``confirm_down`` consecutive failures or ``confirm_up``
       consecutive successes, counted in the streak.
    """
    if outcome.ok:
        if monitor.state == MonitorState.UNKNOWN:
            return MonitorState.UP
        if monitor.state == MonitorState.DOWN and monitor.streak_count >= monitor.confirm_up:
            return MonitorState.UP
        return None
    if monitor.state != MonitorState.DOWN and monitor.streak_count >= monitor.confirm_down:
        return MonitorState.DOWN
    return None


def _advance_streak(monitor: Monitor, outcome: Outcome) -> None:
    if monitor.streak_ok is outcome.ok:
        monitor.streak_count += 1
    else:
        monitor.streak_ok = outcome.ok
        monitor.streak_count = 1
        monitor.streak_since = outcome.checked_at
    monitor.last_checked_at = outcome.checked_at
    monitor.last_ok = outcome.ok
    monitor.last_response_ms = outcome.response_ms
    monitor.last_failure_class = outcome.failure_class
    monitor.last_message = outcome.message[:500]


def _flip(monitor: Monitor, new_state: str, outcome: Outcome) -> StateChange | None:
    """Flip one monitor by conditional UPDATE; write the state change and its incident work.

    The flip is dated at the start of the streak that confirmed it: an outage begins with its
    first failed check, not with the check that confirmed it.
    """
    old_state = monitor.state
    at = monitor.streak_since or outcome.checked_at
    changed = Monitor.objects.filter(pk=monitor.pk, state=old_state).update(
        state=new_state, state_since=at
    )
    if changed != 1:
        return None
    monitor.state = new_state
    monitor.state_since = at
    change = StateChange.objects.create(
        monitor=monitor,
        at=at,
        from_state=old_state,
        to_state=new_state,
        failure_class="" if outcome.ok else outcome.failure_class,
        message="" if outcome.ok else outcome.message[:500],
    )
    incident_logic.on_state_change(change, detected_at=outcome.checked_at)
    return change


def record_results(outcomes: Sequence[Outcome]) -> list[StateChange]:
    """Store a batch of results and evaluate every affected monitor, in one transaction.

    1. Insert the raw results in bulk and add them to their hourly rollups.
    2. Walk the outcomes in time order, advancing each monitor's streak.
    3. Flip monitors whose streak confirms a new state (state change, incident, outbox rows).
    4. Save the streak columns of all touched monitors in bulk.
    Outcomes for monitors deleted meanwhile are dropped.
    """
    if not outcomes:
        return []
    flips: list[StateChange] = []
    with transaction.atomic():
        monitors = Monitor.objects.select_related("site__client__organization").in_bulk(
            {o.monitor_id for o in outcomes}
        )
        kept = [o for o in outcomes if o.monitor_id in monitors]
        CheckResult.objects.bulk_create(
            [
                CheckResult(
                    monitor_id=o.monitor_id,
                    checked_at=o.checked_at,
                    ok=o.ok,
                    status_code=o.status_code,
                    response_ms=o.response_ms,
                    failure_class=o.failure_class,
                    message=o.message[:500],
                    dns_ms=o.dns_ms,
                    connect_ms=o.connect_ms,
                    tls_ms=o.tls_ms,
                    ttfb_ms=o.ttfb_ms,
                    details=o.details or None,
                )
                for o in kept
            ]
        )
        add_to_rollups(kept)
        for outcome in sorted(kept, key=lambda o: o.checked_at):
            monitor = monitors[outcome.monitor_id]
            _advance_streak(monitor, outcome)
            new_state = _next_state(monitor, outcome)
            if new_state is not None:
                change = _flip(monitor, new_state, outcome)
                if change is not None:
                    flips.append(change)
        touched = [monitors[i] for i in {o.monitor_id for o in kept}]
        Monitor.objects.bulk_update(
            touched, [f for f in STATE_FIELDS if f not in ("state", "state_since")]
        )
    return flips
