"""From the database to the plain data the availability functions take.

The state-change log is read as ``monitoring.uptime``'s loader reads it (one indexed query per
chunk of monitors, ``statechange_monitor_time``), but through a plain cursor, and rebuilt into
segments as its ``timeline`` does, over plain tuples (a year of a thousand sites is a quarter
of a million rows); on top of that: a gap before a monitor was created and after now, time
no probe engine was running (``monitoring.engine_runs.unwatched_spans``) as state unknown for
every monitor it probes (for the browser kinds: time no job runner was running), a monitor's
paused time and a heartbeat's time before its first ping
(``monitoring.pauses.unknown_spans``) as state unknown for that monitor, site timelines, and
maintenance windows for many sites at once.

Paused and never-pinged time are applied by ``monitoring.uptime``'s figures too (dashboard,
site and monitor pages), with the same ``overlay_unknown``; unwatched time (the engine not
running) is applied here only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from incidents.models import MaintenanceWindow
from monitoring.engine_runs import loop_of, unwatched_spans
from monitoring.models import Monitor, MonitorState, RunLoop, StateChange
from monitoring.pauses import unknown_spans
from monitoring.uptime import overlay_unknown, state_spans
from sitecare.lib.intervals import Interval, check, clip, merge
from sites.models import Site
from sla.timelines import SILENT, StateSpan, combine

_IN_CHUNK = 900  # SQLite's limit on bound parameters, as in monitoring.uptime
_BATCH = 2000  # rows fetched at a time
_Changes = tuple[list[datetime], list[str], list[str]]  # at, from_state, to_state
_NO_CHANGES: _Changes = ([], [], [])
_UNKNOWN: str = MonitorState.UNKNOWN.value  # a plain string, as in sla.timelines


def monitor_timelines(
    monitors: Iterable[Monitor], start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, list[StateSpan]]:
    """Each monitor's ``(start, end, state)`` segments within ``[start, end)``, by monitor id.

    1. Load every monitor's changes since ``start`` (one query per chunk of monitors).
    2. Rebuild its states from when it was created (or ``start``) until ``end`` or now,
       whichever comes first: before creation and after now there is a gap (nothing known).
       This is ``monitoring.uptime.timeline`` over plain data, without its objects.
    3. Make the time no probe engine ran unknown (one query for the runs, for all monitors):
       whatever the log says, nobody checked then, whether it says up or down. The same for
       each monitor's paused time and a heartbeat's time before its first ping (one query
       per chunk of monitors for the pauses).
    """
    check([(start, end)], name="period")
    now = now or timezone.now()
    monitors = list(monitors)
    changes = _changes_since([m.pk for m in monitors], since=start)
    unwatched = _unwatched_by_loop(monitors, start, end, now)
    ends = min(end, now)
    own = unknown_spans(monitors, start, ends)
    return {
        m.pk: overlay_unknown(
            _own_segments(m, changes, start, ends, own), unwatched[loop_of(m.kind)]
        )
        for m in monitors
    }


def _unwatched_by_loop(
    monitors: Sequence[Monitor], start: datetime, end: datetime, now: datetime
) -> dict[str, list[Interval]]:
    """The unwatched time of each loop these monitors depend on (one query per loop)."""
    loops = {loop_of(m.kind) for m in monitors}
    return {loop: unwatched_spans(start, end, now=now, loop=loop) for loop in loops}


def site_timelines(
    monitors: Iterable[Monitor], start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, list[StateSpan]]:
    """Each site's combined timeline (see ``sla.timelines.combine``), by site id.

    ``monitors`` are the ones that count for the SLA (a site's critical monitors). A site's
    monitor timelines are built just before they are combined and dropped right after, so
    a year of a thousand sites never holds them all at once. Time no probe engine ran is
    unknown for every monitor (see :func:`monitor_timelines`), so for the site wherever any
    of them existed. That is the same as making it unknown on the combined timeline (where
    no member has a segment the site has none either, and elsewhere "all members unknown"
    and "the site unknown" agree), which is done once per site instead of once per monitor.
    A site with browser monitors (watched by job runners, not the engine) has each member's
    unwatched time applied to it before combining instead.
    A monitor's own silent time (paused, a heartbeat not pinged yet) is applied to it before
    combining, as :data:`~sla.timelines.SILENT`: the site is then judged by its other
    monitors, and unknown only where all of them are silent (pausing a secondary check does
    not blank the site, pausing the only one does).
    """
    check([(start, end)], name="period")
    now = now or timezone.now()
    monitors = list(monitors)
    changes = _changes_since([m.pk for m in monitors], since=start)
    unwatched = _unwatched_by_loop(monitors, start, end, now)
    by_site: dict[int, list[Monitor]] = defaultdict(list)
    for monitor in monitors:
        by_site[monitor.site_id].append(monitor)
    ends = min(end, now)
    own = unknown_spans(monitors, start, ends)
    result: dict[int, list[StateSpan]] = {}
    for site_id, members in by_site.items():
        if all(loop_of(m.kind) == RunLoop.PROBE_ENGINE for m in members):
            segments = [_own_segments(m, changes, start, ends, own, SILENT) for m in members]
            result[site_id] = overlay_unknown(combine(segments), unwatched[RunLoop.PROBE_ENGINE])
            continue
        result[site_id] = combine(
            [
                overlay_unknown(
                    _own_segments(m, changes, start, ends, own, SILENT), unwatched[loop_of(m.kind)]
                )
                for m in members
            ]
        )
    return result


def _changes_since(monitor_ids: list[int], *, since: datetime) -> dict[int, _Changes]:
    """The changes at or after ``since``, by monitor, in time order, as parallel lists.

    The same rows as ``monitoring.uptime``'s loader, read with a plain cursor: the ORM's
    per-row converters are the slow part. SQLite stores a time as UTC text, so the query
    hands it over as ISO text with its offset and one ``fromisoformat`` makes it aware
    (the registered converter and a ``replace`` cost twice that over a year of changes);
    other backends' drivers parse it, and a naive result is made aware here, as Django would
    (in the connection's time zone, UTC). Rows are streamed, not kept.
    """
    by_monitor: dict[int, _Changes] = {}
    for offset in range(0, len(monitor_ids), _IN_CHUNK):
        rows_of = StateChange.objects.filter(
            monitor_id__in=monitor_ids[offset : offset + _IN_CHUNK], at__gte=since
        ).order_by("monitor_id", "at", "pk")
        connection = connections[rows_of.db]
        at_column: str | Concat = "at"
        if connection.vendor == "sqlite":
            at_column = Concat(Cast("at", TextField()), Value("+00:00"), output_field=TextField())
        query = rows_of.values_list("monitor_id", at_column, "from_state", "to_state")
        sql, params = query.query.get_compiler(connection=connection).as_sql()
        zone = connection.timezone
        current: int | None = None
        ats: list[datetime] = []
        froms: list[str] = []
        tos: list[str] = []
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(_BATCH):
                for monitor_id, at, from_state, to_state in rows:
                    if monitor_id != current:
                        current, ats, froms, tos = monitor_id, [], [], []
                        by_monitor[monitor_id] = (ats, froms, tos)
                    if not isinstance(at, datetime):
                        at = datetime.fromisoformat(at)
                    elif at.tzinfo is None:
                        at = at.replace(tzinfo=zone)
                    ats.append(at)
                    froms.append(from_state)
                    tos.append(to_state)
    return by_monitor


def _segments(
    monitor: Monitor, changes: _Changes | None, start: datetime, end: datetime
) -> list[StateSpan]:
    """The monitor's states from its creation (or ``start``) to ``end``."""
    ats, froms, tos = changes or _NO_CHANGES
    return state_spans(
        ats, froms, tos, start=max(start, monitor.created_at), end=end, current_state=monitor.state
    )


def _own_segments(
    monitor: Monitor,
    changes: dict[int, _Changes],
    start: datetime,
    end: datetime,
    own: dict[int, list[Interval]],
    hidden_as: str = _UNKNOWN,
) -> list[StateSpan]:
    """The monitor's segments with its own unknown time (paused, not pinged yet) applied:
    as unknown for the monitor alone, as silent when it is combined into its site."""
    segments = _segments(monitor, changes.get(monitor.pk), start, end)
    spans = own.get(monitor.pk)
    return overlay_unknown(segments, spans, hidden_as) if spans else segments


def maintenance_by_site(
    sites: Sequence[Site], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Each site's maintenance time within ``[start, end)``: UTC span lists, by site id.

    The same figures as ``incidents.maintenance.maintenance_intervals`` (a site's own windows
    and its client's client-wide ones, read in the site's zone), for many sites with one
    query per chunk of clients instead of one per site.
    """
    check([(start, end)], name="period")
    client_ids = sorted({site.client_id for site in sites})
    windows: dict[int, list[MaintenanceWindow]] = defaultdict(list)
    for offset in range(0, len(client_ids), _IN_CHUNK):
        found = MaintenanceWindow.objects.filter(
            client_id__in=client_ids[offset : offset + _IN_CHUNK]
        ).overlapping(start, end)
        for window in found.order_by("pk"):
            windows[window.client_id].append(window)
    occurrences: dict[tuple[int, str], list[Interval]] = {}  # a client's sites share windows
    result: dict[int, list[Interval]] = {}
    for site in sites:
        spans: list[Interval] = []
        for window in windows.get(site.client_id, []):
            if window.site_id not in (None, site.pk):
                continue
            key = (window.pk, site.time_zone)
            if key not in occurrences:
                zone = ZoneInfo(site.time_zone)
                occurrences[key] = list(window.occurrences(zone, start, end))
            spans.extend(occurrences[key])
        result[site.pk] = clip(merge(spans), start, end)
    return result
