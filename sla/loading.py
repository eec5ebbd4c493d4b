"""From the database to the plain data the availability functions take.

The state-change log is read with ``monitoring.uptime``'s loader (one indexed query per chunk
of monitors, ``statechange_monitor_time``) and rebuilt into segments with its ``timeline``; this
module only adds what the SLA needs on top: a gap before a monitor was created and after now,
site timelines, and maintenance windows for many sites at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from incidents.models import MaintenanceWindow
from monitoring.models import Monitor
from monitoring.uptime import _load_changes, timeline
from sites.models import Site
from sla.availability import StateSpan, combine
from sla.intervals import Interval, check, clip, merge

_IN_CHUNK = 900  # SQLite's limit on bound parameters, as in monitoring.uptime


def monitor_timelines(
    monitors: Iterable[Monitor], start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, list[StateSpan]]:
    """Each monitor's ``(start, end, state)`` segments within ``[start, end)``, by monitor id.

    1. Load every monitor's changes since ``start`` (one query per chunk of monitors).
    2. Rebuild its states from when it was created (or ``start``) until ``end`` or now,
       whichever comes first: before creation and after now there is a gap (nothing known).
    """
    check([(start, end)], name="period")
    now = now or timezone.now()
    monitors = list(monitors)
    changes = _load_changes([m.pk for m in monitors], since=start)
    result: dict[int, list[StateSpan]] = {}
    for monitor in monitors:
        begins, ends = max(start, monitor.created_at), min(end, now)
        segments = timeline(
            changes.get(monitor.pk, []), start=begins, end=ends, current_state=monitor.state
        )
        result[monitor.pk] = [(s.start, s.end, s.state) for s in segments]
    return result


def site_timelines(
    monitors: Iterable[Monitor], start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, list[StateSpan]]:
    """Each site's combined timeline (see ``sla.availability.combine``), by site id.

    ``monitors`` are the ones that count for the SLA (a site's critical monitors).
    """
    monitors = list(monitors)
    by_monitor = monitor_timelines(monitors, start, end, now=now)
    by_site: dict[int, list[list[StateSpan]]] = defaultdict(list)
    for monitor in monitors:
        by_site[monitor.site_id].append(by_monitor[monitor.pk])
    return {site_id: combine(timelines) for site_id, timelines in by_site.items()}


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
    result: dict[int, list[Interval]] = {}
    for site in sites:
        zone = ZoneInfo(site.time_zone)
        result[site.pk] = clip(
            merge(
                occurrence
                for window in windows.get(site.client_id, [])
                if window.site_id in (None, site.pk)
                for occurrence in window.occurrences(zone, start, end)
            ),
            start,
            end,
        )
    return result
