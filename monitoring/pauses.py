"""Pausing and resuming monitors: one function that does it and records who did it, and the
paused time (and a heartbeat's time before its first ping) read back for the SLA.

Every path that changes ``Monitor.enabled`` (the API, config as code, the admin; the web UI's
buttons later) goes through :func:`set_enabled`, which flips the column by conditional
UPDATE and writes a ``PauseEvent`` in the same transaction; a monitor made paused gets its
event from :func:`record_created`. A resume also makes the monitor's state unknown
(``monitoring.logic.forget_state``, with its state change), so its first checks decide
whether it is up or down: a monitor paused while down and repaired meanwhile is not down
again from the resume until a check confirms it up. Reading, :func:`unknown_spans` gives,
per monitor, the time nobody watched it on purpose (paused) or could not yet know anything
(a heartbeat that never pinged): the SLA loader makes that time unknown, whatever state the
log shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from monitoring.logic import forget_state
from monitoring.models import CheckKind, Monitor, MonitorState, PauseAction, PauseEvent, PauseVia
from sitecare.lib.intervals import Interval, clip, merge

_IN_CHUNK = 900  # SQLite's limit on bound parameters, as in monitoring.uptime


@dataclass(frozen=True)
class Actor:
    """Who pauses or resumes, and by which path: a person (web, admin), an API token and its
    owner, a configuration file, or sitecare itself."""

    via: PauseVia
    user: Any = None  # the person, or the API token's owner
    token: Any = None  # tenancy.models.ApiToken, for the API
    name: str = ""  # who, as named now; the user's name or the token's when empty

    @classmethod
    def web(cls, user: Any) -> Actor:
        return cls(PauseVia.WEB, user=user)

    @classmethod
    def admin(cls, user: Any) -> Actor:
        return cls(PauseVia.ADMIN, user=user)

    @classmethod
    def api(cls, user: Any, token: Any = None) -> Actor:
        return cls(PauseVia.API, user=user, token=token)

    @classmethod
    def config(cls, source: str) -> Actor:
        return cls(PauseVia.CONFIG, name=source)

    @classmethod
    def system(cls) -> Actor:
        return cls(PauseVia.SYSTEM)

    def label(self) -> str:
        """The actor as recorded: the given name, else the token's (and its owner's), else
        the user's name."""
        if self.name:
            return self.name[:300]
        user = self.user.get_username() if self.user is not None else ""
        if self.token is not None:
            return f"{self.token} · {user}"[:300] if user else str(self.token)[:300]
        return user[:300]

    def event(self, monitor_id: int, action: PauseAction, at: datetime) -> PauseEvent:
        return PauseEvent(
            monitor_id=monitor_id,
            at=at,
            action=action,
            via=self.via,
            user=self.user if self.user is not None and self.user.pk else None,
            token=self.token,
            actor=self.label(),
        )


def set_enabled(
    monitor: Monitor, enabled: bool, actor: Actor, *, now: datetime | None = None
) -> PauseEvent | None:
    """Resume (``enabled``) or pause the monitor, recording when and by whom; None when it
    already was so (or someone else changed it first).

    1. Flip ``enabled`` by conditional UPDATE (only from the other value).
    2. When it flipped, write the event in the same transaction.
    3. A resume makes the state unknown from that moment (``forget_state``): the state the
       monitor was paused in is stale.
    """
    now = now or timezone.now()
    with transaction.atomic():
        flipped = Monitor.objects.filter(pk=monitor.pk, enabled=not enabled).update(
            enabled=enabled, updated_at=now
        )
        monitor.enabled = enabled
        if flipped != 1:
            return None
        action = PauseAction.RESUMED if enabled else PauseAction.PAUSED
        event = actor.event(monitor.pk, action, now)
        event.save()
        if enabled and forget_state(monitor.pk, now) is not None:
            monitor.state, monitor.state_since = MonitorState.UNKNOWN, now
    return event


def record_created(monitor: Monitor, actor: Actor) -> PauseEvent | None:
    """A monitor just created paused: record the pause at its creation (nothing otherwise)."""
    if monitor.enabled:
        return None
    event = actor.event(monitor.pk, PauseAction.PAUSED, monitor.created_at)
    event.save()
    return event


@dataclass(frozen=True)
class Pause:
    """One stretch a monitor was paused: from its pause to its resume (None: still paused)."""

    monitor: Monitor
    paused: PauseEvent
    resumed: PauseEvent | None

    @property
    def start(self) -> datetime:
        return self.paused.at

    @property
    def end(self) -> datetime | None:
        return None if self.resumed is None else self.resumed.at


def pauses_between(monitors: Sequence[Monitor], start: datetime, end: datetime) -> list[Pause]:
    """The pauses of these monitors that overlap ``[start, end)``, oldest first.

    1. Read their events before ``end`` (one query per chunk of monitors), with who did them.
    2. Pair each pause with the next resume of its monitor (a second pause changes nothing).
    3. Keep the pairs still paused at ``start`` or paused later.
    """
    by_id = {m.pk: m for m in monitors}
    found: list[Pause] = []
    ids = list(by_id)
    for offset in range(0, len(ids), _IN_CHUNK):
        events = (
            PauseEvent.objects.filter(monitor_id__in=ids[offset : offset + _IN_CHUNK], at__lt=end)
            .select_related("user", "token")
            .order_by("monitor_id", "at", "pk")
        )
        open_pause: dict[int, PauseEvent] = {}
        for event in events:
            if event.action == PauseAction.PAUSED:
                open_pause.setdefault(event.monitor_id, event)
            elif event.monitor_id in open_pause:
                paused = open_pause.pop(event.monitor_id)
                if event.at > start:
                    found.append(Pause(by_id[event.monitor_id], paused, event))
        found.extend(Pause(by_id[pk], paused, None) for pk, paused in open_pause.items())
    return sorted(found, key=lambda pause: (pause.start, pause.monitor.pk))


def paused_spans(
    events: Iterable[tuple[datetime, str]], start: datetime, end: datetime
) -> list[Interval]:
    """The paused time within ``[start, end)`` from a monitor's events in time order.

    A pause runs until the next resume (a second pause changes nothing), or to ``end``.
    """
    spans: list[Interval] = []
    paused_since: datetime | None = None
    for at, action in events:
        if action == PauseAction.PAUSED and paused_since is None:
            paused_since = at
        elif action == PauseAction.RESUMED and paused_since is not None:
            spans.append((paused_since, at))
            paused_since = None
    if paused_since is not None:
        spans.append((paused_since, end))
    return clip(spans, start, end)


def unknown_spans(
    monitors: Sequence[Monitor], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Per monitor id, its time within ``[start, end)`` that counts as unknown whatever the
    log says: paused, and for a heartbeat the time before its first ping. Monitors without
    any are left out.

    1. Read the pause events of all the monitors before ``end`` (one query per chunk: a
       monitor has few), each monitor's in time order.
    2. Each monitor's paused spans; a heartbeat's time from its creation to its first ping
       (to ``end`` when it never pinged) joined to them.
    """
    ids = [m.pk for m in monitors]
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for offset in range(0, len(ids), _IN_CHUNK):
        rows = (
            PauseEvent.objects.filter(monitor_id__in=ids[offset : offset + _IN_CHUNK], at__lt=end)
            .order_by("monitor_id", "at", "pk")
            .values_list("monitor_id", "at", "action")
        )
        for monitor_id, at, action in rows:
            events[monitor_id].append((at, action))
    found: dict[int, list[Interval]] = {}
    for monitor in monitors:
        spans = paused_spans(events.get(monitor.pk, ()), start, end)
        if monitor.kind == CheckKind.HEARTBEAT:
            silent_until = monitor.first_ping_at or end
            spans = merge([*spans, (max(start, monitor.created_at), min(end, silent_until))])
        if spans:
            found[monitor.pk] = spans
    return found
