"""What a public status page shows: components' current state, 90 daily uptime bars, incidents
with their public updates and scheduled maintenance, all built from the page's components only.

Nothing here reads a monitor that is not a component of the page: a private monitor's name,
id, address, state and incidents never reach a page, its JSON or a badge. Components are
named by their display name and identified by their own id.

Days are calendar days in the page's time zone (the zone most of its components' sites use).
Time before a monitor existed, or before its first known state, is "no data", never "up".
Downtime inside a maintenance window of the site is shown as maintenance, not as an outage.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents import maintenance
from incidents.models import (
    Incident,
    IncidentState,
    MaintenanceWindow,
    PublicUpdate,
    StatusComponent,
    StatusPage,
)
from monitoring import uptime
from monitoring.models import Monitor, MonitorState
from sites.models import Site

BAR_DAYS = 90
BADGE_DAYS = 30
RECENT_INCIDENT_DAYS = 14
MAINTENANCE_AHEAD_DAYS = 14
MAX_INCIDENTS = 50
# A day with at most this much downtime is a minor day; more is a major one.
MINOR_DOWN_SECONDS = 30 * 60


class ComponentState(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    OUTAGE = "outage", _("Outage")
    MAINTENANCE = "maintenance", _("Under maintenance")
    NO_DATA = "no_data", _("No data")


class PageState(models.TextChoices):
    OPERATIONAL = "operational", _("All systems operational")
    PARTIAL_OUTAGE = "partial_outage", _("Partial outage")
    MAJOR_OUTAGE = "major_outage", _("Major outage")
    MAINTENANCE = "maintenance", _("Maintenance in progress")
    NO_DATA = "no_data", _("No data yet")


class DayLevel(models.TextChoices):
    UP = "up", _("No downtime")
    MINOR = "minor", _("Minor outage")
    MAJOR = "major", _("Major outage")
    NO_DATA = "no_data", _("No data")


@dataclass(frozen=True)
class Day:
    """One calendar day of one component: seconds up, down, in maintenance, unknown."""

    day: date
    up_seconds: float = 0.0
    down_seconds: float = 0.0
    maintenance_seconds: float = 0.0
    unknown_seconds: float = 0.0

    @property
    def known_seconds(self) -> float:
        return self.up_seconds + self.down_seconds + self.maintenance_seconds

    @property
    def percent(self) -> float | None:
        """Time not down as a percentage of known time; None when nothing is known."""
        if self.known_seconds <= 0:
            return None
        return 100.0 * (self.known_seconds - self.down_seconds) / self.known_seconds

    @property
    def level(self) -> DayLevel:
        if self.known_seconds <= 0:
            return DayLevel.NO_DATA
        if self.down_seconds <= 0:
            return DayLevel.UP
        if self.down_seconds <= MINOR_DOWN_SECONDS:
            return DayLevel.MINOR
        return DayLevel.MAJOR


def percent_of(days: list[Day]) -> float | None:
    """Uptime over several days, weighted by known time; None when nothing is known."""
    known = sum(d.known_seconds for d in days)
    if known <= 0:
        return None
    return 100.0 * (known - sum(d.down_seconds for d in days)) / known


@dataclass(frozen=True)
class ComponentView:
    id: int
    name: str
    state: ComponentState
    days: list[Day]

    @property
    def uptime_percent(self) -> float | None:
        return percent_of(self.days)


@dataclass(frozen=True)
class IncidentView:
    """An incident as the public sees it: titled by the component, never by the monitor."""

    title: str
    component_ids: list[int]
    started_at: datetime
    resolved_at: datetime | None
    updates: list[PublicUpdate]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def status_label(self) -> str:
        """Resolved once resolved; while open, the latest public update's status, or ongoing."""
        if not self.is_open:
            return str(_("Resolved"))
        if self.updates:
            return str(self.updates[-1].get_status_display())
        return str(_("Ongoing"))


@dataclass(frozen=True)
class MaintenanceView:
    title: str
    description: str
    start: datetime
    end: datetime
    running: bool


@dataclass(frozen=True)
class PageSummary:
    page: StatusPage
    state: PageState
    time_zone: str
    generated_at: datetime
    components: list[ComponentView]
    active_incidents: list[IncidentView] = field(default_factory=list)
    past_incidents: list[IncidentView] = field(default_factory=list)
    maintenance: list[MaintenanceView] = field(default_factory=list)


# --- loading ---------------------------------------------------------------------------------


def components_of(page: StatusPage) -> list[StatusComponent]:
    """The page's components with their monitors and sites, in page order."""
    return list(page.components.select_related("monitor__site").order_by("position", "pk"))


def page_zone(page: StatusPage, components: list[StatusComponent]) -> str:
    """The zone most of the components' sites use; else the client's first; else the default."""
    zones = Counter(c.monitor.site.time_zone for c in components)
    if zones:
        return sorted(zones.items(), key=lambda item: (-item[1], item[0]))[0][0]
    first = Site.objects.filter(client_id=page.client_id).order_by("pk").first()
    return first.time_zone if first is not None else str(settings.TIME_ZONE)


def summarize_page(page: StatusPage, now: datetime | None = None) -> PageSummary:
    """Everything the page and its JSON show, read once.

    1. Load the components, their state-change log over 90 days and their sites' maintenance.
    2. Build each component's current state and daily bars.
    3. Add the incidents of the components' monitors and the coming maintenance.
    """
    now = now or timezone.now()
    components = components_of(page)
    zone_name = page_zone(page, components)
    days = day_bounds(ZoneInfo(zone_name), now, BAR_DAYS)
    batch = uptime.UptimeBatch([c.monitor for c in components], longest=now - days[0][1], now=now)
    sites = {c.monitor.site_id: c.monitor.site for c in components}
    held = {pk: maintenance.maintenance_intervals(s, days[0][1], now) for pk, s in sites.items()}
    running = {pk: maintenance_running(site, now) for pk, site in sites.items()}
    views = [
        ComponentView(
            id=c.pk,
            name=c.name,
            state=component_state(c, running[c.monitor.site_id]),
            days=daily_uptime(c, batch, days, held[c.monitor.site_id]),
        )
        for c in components
    ]
    active, past = incidents_of(components, now)
    return PageSummary(
        page=page,
        state=page_state([v.state for v in views]),
        time_zone=zone_name,
        generated_at=now,
        components=views,
        active_incidents=active,
        past_incidents=past,
        maintenance=maintenance_of(page, components, now),
    )


def maintenance_running(site: Site, now: datetime) -> bool:
    return MaintenanceWindow.objects.active_at(site, now) is not None


def component_state(component: StatusComponent, in_maintenance: bool) -> ComponentState:
    """Maintenance while a window runs; otherwise the monitor's confirmed state."""
    monitor = component.monitor
    if in_maintenance:
        return ComponentState.MAINTENANCE
    if not monitor.enabled:
        return ComponentState.NO_DATA
    if monitor.state == MonitorState.DOWN:
        return ComponentState.OUTAGE
    if monitor.state == MonitorState.UP:
        return ComponentState.OPERATIONAL
    return ComponentState.NO_DATA


def page_state(states: list[ComponentState]) -> PageState:
    """Major outage when every known component is down, partial when some are, and so on."""
    known = [s for s in states if s != ComponentState.NO_DATA]
    outages = known.count(ComponentState.OUTAGE)
    if not known:
        return PageState.NO_DATA
    if outages and outages == len(known):
        return PageState.MAJOR_OUTAGE
    if outages:
        return PageState.PARTIAL_OUTAGE
    if ComponentState.MAINTENANCE in known:
        return PageState.MAINTENANCE
    return PageState.OPERATIONAL


# --- daily uptime ----------------------------------------------------------------------------


def day_bounds(zone: ZoneInfo, now: datetime, count: int) -> list[tuple[date, datetime, datetime]]:
    """The last ``count`` calendar days in ``zone`` (today last) as (day, start, end) in UTC.

    Each day runs from local midnight to the next (23 or 25 hours on summer-time changes);
    today ends at ``now``.
    """
    today = now.astimezone(zone).date()
    bounds = []
    for back in range(count - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(ZoneInfo("UTC"))
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=zone)
        bounds.append((day, start, min(end.astimezone(ZoneInfo("UTC")), now)))
    return bounds


def daily_uptime(
    component: StatusComponent,
    batch: uptime.UptimeBatch,
    days: list[tuple[date, datetime, datetime]],
    maintenance_time: list[tuple[datetime, datetime]],
) -> list[Day]:
    """One ``Day`` per bound: the monitor's timeline, cut at its creation and at maintenance.

    1. Time before the monitor was created is unknown, whatever the log says.
    2. Rebuild the state over the rest of the day from the state-change log.
    3. Down time inside a maintenance window counts as maintenance.
    """
    monitor = component.monitor
    changes = batch.changes.get(monitor.pk, [])
    result = []
    for day, start, end in days:
        unknown = max(0.0, (min(end, monitor.created_at) - start).total_seconds())
        begin = max(start, monitor.created_at)
        totals = {MonitorState.UP: 0.0, MonitorState.DOWN: 0.0, MonitorState.UNKNOWN: unknown}
        held = 0.0
        for segment in uptime.timeline(changes, start=begin, end=end, current_state=monitor.state):
            totals[MonitorState(segment.state)] += segment.seconds
            if segment.state == MonitorState.DOWN:
                held += overlap(segment.start, segment.end, maintenance_time)
        result.append(
            Day(
                day=day,
                up_seconds=totals[MonitorState.UP],
                down_seconds=totals[MonitorState.DOWN] - held,
                maintenance_seconds=held,
                unknown_seconds=totals[MonitorState.UNKNOWN],
            )
        )
    return result


def overlap(start: datetime, end: datetime, intervals: list[tuple[datetime, datetime]]) -> float:
    """Seconds of ``[start, end)`` covered by merged, non-overlapping ``intervals``."""
    covered = 0.0
    for begins, ends in intervals:
        low, high = max(start, begins), min(end, ends)
        if high > low:
            covered += (high - low).total_seconds()
    return covered


def component_badge_uptime(component: StatusComponent, now: datetime | None = None) -> float | None:
    """A component's uptime over the last 30 days of its page's zone (for its badge)."""
    now = now or timezone.now()
    zone_name = page_zone(component.page, components_of(component.page))
    days = day_bounds(ZoneInfo(zone_name), now, BADGE_DAYS)
    batch = uptime.UptimeBatch([component.monitor], longest=now - days[0][1], now=now)
    held = maintenance.maintenance_intervals(component.monitor.site, days[0][1], now)
    return percent_of(daily_uptime(component, batch, days, held))


# --- incidents and maintenance ---------------------------------------------------------------


def incident_title(component_names: list[str]) -> str:
    """An incident's public title: the components' display names, never the monitors'."""
    return gettext("%(component)s: outage") % {"component": ", ".join(component_names)}


def incident_monitor_ids(incident: Incident) -> set[int]:
    """The monitors an incident is about: its own and those marked as affected by it."""
    return {incident.monitor_id} | {m.pk for m in incident.affected_monitors.all()}


def components_for(incident: Incident, components: list[StatusComponent]) -> list[StatusComponent]:
    """The page's components (in page order) that show the incident."""
    monitor_ids = incident_monitor_ids(incident)
    return [c for c in components if c.monitor_id in monitor_ids]


def incidents_of(
    components: list[StatusComponent], now: datetime
) -> tuple[list[IncidentView], list[IncidentView]]:
    """Open incidents and those resolved in the last 14 days, of the components' monitors."""
    monitor_ids = [c.monitor_id for c in components]
    recent = now - timedelta(days=RECENT_INCIDENT_DAYS)
    incidents = (
        Incident.objects.filter(
            Q(monitor_id__in=monitor_ids) | Q(affected_monitors__in=monitor_ids)
        )
        .filter(Q(state=IncidentState.OPEN) | Q(resolved_at__gte=recent))
        .distinct()
        .prefetch_related(
            Prefetch("public_updates", queryset=PublicUpdate.objects.order_by("posted_at", "pk")),
            Prefetch("affected_monitors", queryset=Monitor.objects.only("pk")),
        )
        .order_by("-opened_at", "-pk")[:MAX_INCIDENTS]
    )
    active: list[IncidentView] = []
    past: list[IncidentView] = []
    for incident in incidents:
        shown = components_for(incident, components)
        view = IncidentView(
            title=incident_title([c.name for c in shown]),
            component_ids=[c.pk for c in shown],
            started_at=incident.opened_at,
            resolved_at=incident.resolved_at if incident.state == IncidentState.RESOLVED else None,
            updates=list(incident.public_updates.all()),
        )
        (active if view.is_open else past).append(view)
    return active, past


def maintenance_of(
    page: StatusPage, components: list[StatusComponent], now: datetime
) -> list[MaintenanceView]:
    """Running and coming maintenance (14 days) of the components' sites, soonest first.

    A client-wide window counts when the page shows one of the client's sites; it is read in
    the zones of the page's sites only, so no other site's clock shows through.
    """
    site_ids = {c.monitor.site_id for c in components}
    zones = {c.monitor.site.time_zone for c in components}
    found: dict[tuple[int, datetime], MaintenanceView] = {}
    ahead = now + timedelta(days=MAINTENANCE_AHEAD_DAYS)
    for occurrence in maintenance.scheduled(page.client, now, ahead):
        window = occurrence.window
        if window.site_id is not None and window.site_id not in site_ids:
            continue
        if window.site_id is None and occurrence.time_zone not in zones:
            continue
        found.setdefault(
            (window.pk, occurrence.start),
            MaintenanceView(
                title=window.title,
                description=window.description,
                start=occurrence.start,
                end=occurrence.end,
                running=occurrence.is_running(now),
            ),
        )
    return sorted(found.values(), key=lambda m: (m.start, m.title))
