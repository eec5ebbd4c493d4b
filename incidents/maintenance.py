"""Maintenance windows at work: their occurrences, whether a monitor is in one, and the sweep
that opens the incidents they held back.

During a window a down flip is *held* (``incidents.logic.hold_for_maintenance`` writes a
``HeldOutage``, no incident, no alert). After the window, :func:`handle_one_maintenance_end`
(called by the alert sender's loop) opens the incident of a monitor that is still down and
queues its alerts as usual, or lets the hold go quietly when the monitor recovered meanwhile.
The incident is dated at the real start of the outage (its first failed check), like every
incident: it is the outage's record, which durations, reports and the SLA read, while the alert
itself goes out when the window ends.

Time zones: a site's window is read in the site's zone; a client-wide window in the zone of
each of the client's sites (``settings.TIME_ZONE`` while the client has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents import recurrence
from incidents.logic import open_incident
from incidents.models import HeldOutage, MaintenanceWindow
from monitoring.models import Monitor, MonitorState, StateChange
from sites.models import Site
from tenancy.models import Client

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Starts are at least an hour apart (see incidents/recurrence.py), so looking this far back
# for a start that may still run, and this many starts ahead, always finds the next ones.
LOOK_BACK = timedelta(hours=3)
EXTRA_STARTS = 8


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a window, in UTC, with the zone it is read in."""

    window: MaintenanceWindow
    start: datetime
    end: datetime
    time_zone: str

    @property
    def local_start(self) -> datetime:
        """The start on the site's wall clock (naive, so templates show it as it is)."""
        return self.start.astimezone(ZoneInfo(self.time_zone)).replace(tzinfo=None)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.time_zone)).replace(tzinfo=None)

    def is_running(self, now: datetime) -> bool:
        return self.start <= now < self.end


def client_zones(client_id: int) -> list[str]:
    """The zones of a client's sites, in which its client-wide windows are read."""
    zones = Site.objects.filter(client_id=client_id).values_list("time_zone", flat=True)
    return sorted(set(zones)) or [str(settings.TIME_ZONE)]


def zones_of(window: MaintenanceWindow, clients: list[str] | None = None) -> list[str]:
    """The zones a window is read in; ``clients`` is its client's zones if already known."""
    if window.site is not None:
        return [window.site.time_zone]
    return clients if clients is not None else client_zones(window.client_id)


def occurrences(
    window: MaintenanceWindow,
    start: datetime,
    end: datetime,
    *,
    zones: list[str] | None = None,
) -> list[Occurrence]:
    """The window's occurrences overlapping ``[start, end)``, in every zone it is read in."""
    found = [
        Occurrence(window, begins, ends, zone)
        for zone in zones_of(window, zones)
        for begins, ends in window.occurrences(ZoneInfo(zone), start, end)
    ]
    return sorted(found, key=lambda o: (o.start, o.time_zone))


def upcoming(
    window: MaintenanceWindow, now: datetime, count: int = 3, *, zones: list[str] | None = None
) -> list[Occurrence]:
    """The running occurrence (if any) and the next ones, ``count`` in all, for display.

    1. In each zone, take the starts from a little before ``now`` on the wall clock.
    2. Place them in UTC, keep those not yet over, the soonest ``count``.
    """
    try:
        rule = window.as_recurrence()
    except recurrence.RuleError:
        return []  # see MaintenanceWindow.occurrences: a broken row must not break the page
    found: set[Occurrence] = set()
    for zone_name in zones_of(window, zones):
        zone = ZoneInfo(zone_name)
        local_now = now.astimezone(zone).replace(tzinfo=None)
        after = local_now - window.duration - LOOK_BACK
        for local in recurrence.next_local_starts(rule, after, count + EXTRA_STARTS):
            begins = recurrence.to_utc(local, zone)
            if begins + window.duration > now:
                found.add(Occurrence(window, begins, begins + window.duration, zone_name))
    return sorted(found, key=lambda o: (o.start, o.time_zone))[:count]


def scheduled(client: Client, start: datetime, end: datetime) -> list[Occurrence]:
    """Every window occurrence of a client in ``[start, end)``, soonest first (status pages)."""
    zones = client_zones(client.pk)
    windows = MaintenanceWindow.objects.filter(client=client).select_related("site")
    found = [
        occurrence
        for window in windows.overlapping(start, end)
        for occurrence in occurrences(window, start, end, zones=zones)
    ]
    return sorted(found, key=lambda o: (o.start, o.window.pk, o.time_zone))


def in_maintenance(monitor: Monitor, at: datetime) -> MaintenanceWindow | None:
    """The window the monitor's site is in at ``at``, or None."""
    return MaintenanceWindow.objects.active_at(monitor.site, at)


def maintenance_intervals(
    site: Site, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The site's maintenance time within ``[start, end)``: UTC intervals, clipped and merged.

    For the SLA, whose care plan says whether window time counts.
    """
    zone = ZoneInfo(site.time_zone)
    windows = MaintenanceWindow.objects.for_site(site).overlapping(start, end)
    return recurrence.merge(
        (max(begins, start), min(ends, end))
        for window in windows
        for begins, ends in window.occurrences(zone, start, end)
    )


# --- presets of the web form -----------------------------------------------------------------


class Repeat(models.TextChoices):
    ONCE = "once", _("Once")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week, on the first day's weekday")
    MONTHLY = "monthly", _("Every month, on the first day's date")
    CUSTOM = "custom", _("Custom rule (RRULE)")


def rule_for(repeat: str, local_start: datetime, custom: str = "") -> str:
    """The RRULE a preset stands for, starting on ``local_start``'s day."""
    if repeat == Repeat.ONCE:
        return ""
    if repeat == Repeat.DAILY:
        return "FREQ=DAILY"
    if repeat == Repeat.WEEKLY:
        return f"FREQ=WEEKLY;BYDAY={WEEKDAY_CODES[local_start.weekday()]}"
    if repeat == Repeat.MONTHLY:
        # Months without that day (the 31st in April) are skipped, as RFC 5545 says.
        return f"FREQ=MONTHLY;BYMONTHDAY={local_start.day}"
    return recurrence.normalize_rule(custom)


def describe_repeat(window: MaintenanceWindow) -> str:
    """How a window repeats, in words for its page ("Weekly: Sunday"); a custom rule as is."""
    repeat = repeat_of(window)
    start = window.local_start
    if repeat == Repeat.WEEKLY:
        return gettext("Weekly: %(weekday)s") % {"weekday": date_format(start, "l")}
    if repeat == Repeat.MONTHLY:
        return gettext("Monthly: day %(day)d") % {"day": start.day}
    if repeat == Repeat.CUSTOM:
        return window.rrule
    return str(repeat.label)


def repeat_of(window: MaintenanceWindow) -> Repeat:
    """The preset a window's rule matches, or CUSTOM."""
    for preset in (Repeat.ONCE, Repeat.DAILY, Repeat.WEEKLY, Repeat.MONTHLY):
        if window.rrule == rule_for(preset, window.local_start):
            return preset
    return Repeat.CUSTOM


# --- releasing held outages ------------------------------------------------------------------


def handle_one_maintenance_end(now: datetime) -> int:
    """Release the outages held by windows that are over; returns how many were released.

    1. Read the holds still waiting (a partial index: usually none, one cheap query).
    2. Leave a hold whose monitor is still down and whose site is still in a window (asked
       once per site per sweep).
    3. Release the others (:func:`release_hold`): an incident if still down, else nothing.
    """
    waiting = (
        HeldOutage.objects.filter(released_at__isnull=True)
        .select_related("monitor__site__client__organization", "state_change")
        .order_by("held_at", "pk")
    )
    site_in_window: dict[int, bool] = {}
    released = 0
    for hold in waiting:
        site = hold.monitor.site
        if site.pk not in site_in_window:
            site_in_window[site.pk] = MaintenanceWindow.objects.active_at(site, now) is not None
        if site_in_window[site.pk] and still_down(hold):
            continue
        released += release_hold(hold, now)
    return released


def release_hold(hold: HeldOutage, now: datetime) -> bool:
    """Release one hold by conditional UPDATE, opening its incident if the monitor is down.

    The monitor is read again after the claim, in the same transaction (SQLite's write lock,
    or a row lock elsewhere), so a recovery recorded meanwhile wins: no incident is opened
    for a monitor that is up, which no later flip would ever resolve.
    """
    with transaction.atomic():
        claimed = HeldOutage.objects.filter(pk=hold.pk, released_at__isnull=True).update(
            released_at=now
        )
        if claimed != 1:
            return False  # another sweep got there first
        if still_down(hold, lock=True):
            incident = open_incident(hold.monitor, hold.state_change, detected_at=now)
            HeldOutage.objects.filter(pk=hold.pk).update(incident=incident)
    return True


def still_down(hold: HeldOutage, *, lock: bool = False) -> bool:
    """Whether the held down flip is still the monitor's current state."""
    monitors = Monitor.objects.filter(pk=hold.monitor_id, state=MonitorState.DOWN)
    if lock:
        monitors = monitors.select_for_update()
    if not list(monitors.values_list("pk", flat=True)):
        return False
    latest = (
        StateChange.objects.filter(monitor_id=hold.monitor_id)
        .order_by("-at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return latest == hold.state_change_id
