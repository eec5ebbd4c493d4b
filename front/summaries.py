"""What the dashboard, client and site pages show, gathered in a fixed number of queries.

Every query starts from the user's scope; nothing here reaches rows the user may not see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from front.charts import Bucket, response_time_svg, wide_and_narrow
from incidents.models import Incident, IncidentState
from monitoring.checks import BROWSER_KINDS
from monitoring.models import (
    CheckKind,
    HourlyRollup,
    Monitor,
    MonitorState,
    PauseAction,
    PauseEvent,
)
from monitoring.rollups import hour_of, latency_of
from monitoring.uptime import Uptime, UptimeBatch
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MONTH = timedelta(days=30)


class Status:
    """What a badge says: a monitor's state, or "paused" for a disabled one."""

    UP = MonitorState.UP
    DOWN = MonitorState.DOWN
    UNKNOWN = MonitorState.UNKNOWN
    PAUSED = "paused"
    WAITING = "waiting"  # a heartbeat never pinged: not up, whatever its verdict says
    # Down, but a monitor that does not count for the SLA (a speed budget broken, a
    # certificate near expiry, an SEO accident): the site is not down for its visitors.
    WARNING = "warning"
    LABELS = {
        UP: gettext_lazy("Up"),
        DOWN: gettext_lazy("Down"),
        WARNING: gettext_lazy("Needs attention"),
        UNKNOWN: gettext_lazy("No data"),
        PAUSED: gettext_lazy("Paused"),
        WAITING: gettext_lazy("Waiting for first ping"),
    }


def monitor_status(monitor: Monitor) -> str:
    """What a monitor's badge says: paused, waiting for a heartbeat's first ping, or its state."""
    if not monitor.enabled:
        return Status.PAUSED
    never_pinged = monitor.kind == CheckKind.HEARTBEAT and monitor.first_ping_at is None
    if never_pinged and monitor.state != MonitorState.DOWN:
        return Status.WAITING
    if monitor.state == MonitorState.DOWN and not monitor.critical:
        return Status.WARNING
    return monitor.state


def worst_status(monitors: Sequence[Monitor]) -> str:
    """A site's state: its worst enabled monitor (a heartbeat waiting for its first ping
    counts as no data, not up; a monitor that does not count for the SLA makes it need
    attention, never down); paused when none is enabled."""
    states = {
        Status.UNKNOWN if monitor_status(m) == Status.WAITING else monitor_status(m)
        for m in monitors
        if m.enabled
    }
    for status in (Status.DOWN, Status.WARNING, Status.UNKNOWN, Status.UP):
        if status in states:
            return status
    return Status.PAUSED


@dataclass
class MonitorRow:
    monitor: Monitor
    status: str
    uptime_day: Uptime
    uptime_month: Uptime
    chart: str = ""


@dataclass
class SiteRow:
    site: Site
    monitors: list[Monitor]
    status: str
    uptime_day: Uptime
    uptime_month: Uptime
    last_response_ms: float | None
    open_incidents: int


@dataclass
class ClientRow:
    client: Client
    sites: list[SiteRow] = field(default_factory=list)


@dataclass
class Board:
    """Clients with their sites, and the counts on top (a client's page; the agency's
    dashboard is ``front.dashboard``, built for a large portfolio)."""

    clients: list[ClientRow]

    def _count(self, status: str) -> int:
        return sum(1 for c in self.clients for s in c.sites if s.status == status)

    @property
    def sites_up(self) -> int:
        return self._count(Status.UP)

    @property
    def sites_down(self) -> int:
        return self._count(Status.DOWN)

    @property
    def open_incidents(self) -> int:
        return sum(s.open_incidents for c in self.clients for s in c.sites)


@dataclass(frozen=True)
class HappeningNow:
    """An open incident as the dashboard shows it: with its monitor's status now, not only
    the incident's (which stays open while the monitor is paused, waits for its first check
    after a resume, or is up again inside the flap window)."""

    incident: Incident
    status: str  # Status: down, paused, unknown (waiting for a check) or up (recovering)
    since: datetime | None  # when that status began (the incident's opening while down)


def happening_now(scope: Scope, *, limit: int = 10) -> list[HappeningNow]:
    """The latest open incidents with their monitors' status (2 queries)."""
    incidents = list(
        scope.visible(Incident)
        .filter(state=IncidentState.OPEN)
        .select_related("monitor__site__client")
        .order_by("-opened_at")[:limit]
    )
    paused_at = dict(
        PauseEvent.objects.filter(
            monitor_id__in=[i.monitor_id for i in incidents if not i.monitor.enabled],
            action=PauseAction.PAUSED,
        )
        .values("monitor_id")
        .annotate(at=Max("at"))
        .values_list("monitor_id", "at")
    )
    rows = []
    for incident in incidents:
        monitor = incident.monitor
        status = monitor_status(monitor)
        since = {
            Status.DOWN: incident.opened_at,
            Status.WARNING: incident.opened_at,
            Status.PAUSED: paused_at.get(monitor.pk),
        }.get(status, monitor.state_since)
        rows.append(HappeningNow(incident, status, since))
    return rows


def _slowest(monitors: Iterable[Monitor]) -> float | None:
    """The site's last response time: its slowest monitor's, the one a visitor feels (browser
    kinds' figures are a run's length or a page's LCP, not a server's answer: left out)."""
    times = [
        m.last_response_ms
        for m in monitors
        if m.enabled and m.last_response_ms is not None and m.kind not in BROWSER_KINDS
    ]
    return max(times, default=None)


def open_incidents_by_site(scope: Scope, sites: Iterable[Site]) -> dict[int, int]:
    rows = (
        scope.visible(Incident)
        .filter(state=IncidentState.OPEN, monitor__site__in=list(sites))
        .values("monitor__site_id")
        .annotate(n=Count("pk"))
    )
    return {row["monitor__site_id"]: row["n"] for row in rows}


def site_rows(scope: Scope, sites: QuerySet[Site], *, now: datetime) -> list[SiteRow]:
    """A row per site: state, uptime, slowest last response, open incidents (5 queries)."""
    site_list = list(sites)
    monitors = list(scope.visible(Monitor).filter(site__in=site_list).order_by("name"))
    by_site: dict[int, list[Monitor]] = defaultdict(list)
    for monitor in monitors:
        by_site[monitor.site_id].append(monitor)
    batch = UptimeBatch(monitors, longest=MONTH, now=now)
    incidents = open_incidents_by_site(scope, site_list)
    rows = []
    for site in site_list:
        members = by_site.get(site.pk, [])
        # Every monitor, paused ones too: their paused time is unknown and yields to the
        # others (monitoring.uptime), and their figures from before the pause still count.
        counted = [m.pk for m in members]
        rows.append(
            SiteRow(
                site=site,
                monitors=members,
                status=worst_status(members),
                uptime_day=batch.for_group(counted, DAY),
                uptime_month=batch.for_group(counted, MONTH),
                last_response_ms=_slowest(members),
                open_incidents=incidents.get(site.pk, 0),
            )
        )
    return rows


def board(scope: Scope, clients: QuerySet[Client] | None = None) -> Board:
    """Every visible client (or the given ones) with their sites' rows."""
    now = timezone.now()
    client_list = list(clients if clients is not None else scope.visible(Client))
    sites = scope.visible(Site).filter(client__in=client_list).select_related("client")
    rows = {c.pk: ClientRow(client=c) for c in client_list}
    for row in site_rows(scope, sites, now=now):
        rows[row.site.client_id].sites.append(row)
    return Board(clients=list(rows.values()))


def monitor_rows(
    scope: Scope, monitors: Sequence[Monitor], *, now: datetime, charts: bool = True
) -> list[MonitorRow]:
    """A row per monitor with uptime figures and, if asked, its 24 h chart (3 queries)."""
    batch = UptimeBatch(monitors, longest=MONTH, now=now)
    svgs = response_charts(scope, monitors, now=now) if charts else {}
    return [
        MonitorRow(
            monitor=m,
            status=monitor_status(m),
            uptime_day=batch.for_monitor(m.pk, DAY),
            uptime_month=batch.for_monitor(m.pk, MONTH),
            chart=svgs.get(m.pk, ""),
        )
        for m in monitors
    ]


def rollup_bucket(row: HourlyRollup, *, start: datetime, end: datetime) -> Bucket:
    """One hourly rollup as a chart slice: median and 95th percentile, clipped to the period."""
    latency = latency_of([row])
    return Bucket(
        start=max(row.hour, start),
        end=min(row.hour + HOUR, end),
        response_ms=latency.p50_ms,
        checks=row.checks,
        failures=row.failures,
        p95_ms=latency.p95_ms,
    )


def response_charts(scope: Scope, monitors: Sequence[Monitor], *, now: datetime) -> dict[int, str]:
    """The last 24 h of each monitor as an SVG chart of hourly median and p95, from one query.

    Reads the hourly rollups (the current hour's row is kept up to date as results arrive),
    never the raw results: 25 rows per monitor whatever the check interval.
    """
    start = now - DAY
    buckets: dict[int, list[Bucket]] = defaultdict(list)
    rows = (
        scope.visible(HourlyRollup)
        .filter(monitor__in=list(monitors), hour__gte=hour_of(start), hour__lt=now)
        .order_by("hour")
    )
    for row in rows:
        buckets[row.monitor_id].append(rollup_bucket(row, start=start, end=now))
    tz = timezone.get_current_timezone()
    legend = (_("median"), _("95th percentile"))
    return {
        m.pk: wide_and_narrow(
            partial(
                response_time_svg,
                buckets.get(m.pk, []),
                start=start,
                end=now,
                tz=tz,
                title=_("Response time of %(name)s, last 24 hours") % {"name": m.name},
                empty_text=_("No checks in the last 24 hours"),
                legend=legend,
            )
        )
        for m in monitors
    }
