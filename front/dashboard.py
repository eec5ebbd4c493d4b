"""What the agency dashboard shows, in a number of queries that does not grow with the portfolio.

The dashboard used to list every site of every client with its 24 h and 30 d uptime, worked
out from the state changes of all of them on each request. Now it shows:

- the counts on top, from one aggregate over the monitors (a site's state is its worst
  enabled monitor's, as ``front.summaries.worst_status`` says) and one over open incidents;
- the sites that need attention (down, or with an open incident), grouped by client, at most
  ``ATTENTION_SITES`` of them, with their figures worked out now (``front.summaries``);
- one page of ``PAGE_SIZE`` clients, those with a problem first, each with its counts and its
  SLA standing as stored (``sla.standings``, with the moment it is of). The full site lists
  live on the clients' pages and the monitors list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from front.summaries import ClientRow, SiteRow, Status, site_rows
from incidents.models import Incident, IncidentState
from monitoring.models import Monitor, MonitorState
from sites.models import Site
from sla.standings import StoredStanding, current
from tenancy.models import Client
from tenancy.scoping import Scope

PAGE_SIZE = 25
ATTENTION_SITES = 10  # each with its 24 h and 30 d uptime worked out now (the costly part)


@dataclass
class SiteCounts:
    """A client's sites by state, and its open incidents."""

    sites: int = 0
    down: int = 0
    other: int = 0  # no data yet, or every monitor paused
    open_incidents: int = 0

    @property
    def up(self) -> int:
        return self.sites - self.down - self.other

    @property
    def has_problem(self) -> bool:
        return bool(self.down or self.open_incidents)


@dataclass
class ClientLine:
    """One client in the dashboard's list."""

    client: Client
    counts: SiteCounts
    standing: StoredStanding | None = None


@dataclass
class Dashboard:
    totals: SiteCounts
    attention: list[ClientRow]  # clients with sites that need attention, with those sites
    attention_more: int  # sites that need attention beyond those shown
    page: Page[Client]  # the page of clients shown (``lines``), for the pager
    as_of: datetime | None  # when the oldest standing shown was worked out
    lines: list[ClientLine] = field(default_factory=list)  # the page's clients


def site_states(scope: Scope) -> tuple[dict[int, str], dict[int, int]]:
    """Each visible site's state (its worst enabled monitor's) and client, in two queries."""
    enabled = Q(enabled=True)
    per_site = (
        scope.visible(Monitor)
        .values("site_id")
        .annotate(
            down=Count("pk", filter=enabled & Q(state=MonitorState.DOWN, critical=True)),
            warning=Count("pk", filter=enabled & Q(state=MonitorState.DOWN, critical=False)),
            unknown=Count("pk", filter=enabled & Q(state=MonitorState.UNKNOWN)),
            up=Count("pk", filter=enabled & Q(state=MonitorState.UP)),
        )
    )
    states: dict[int, str] = {}
    for row in per_site:
        if row["down"]:
            states[row["site_id"]] = Status.DOWN
        elif row["warning"]:
            states[row["site_id"]] = Status.WARNING
        elif row["unknown"]:
            states[row["site_id"]] = Status.UNKNOWN
        elif row["up"]:
            states[row["site_id"]] = Status.UP
    clients = dict(scope.visible(Site).values_list("pk", "client_id"))
    return {pk: states.get(pk, Status.PAUSED) for pk in clients}, clients


def open_incidents_by_site(scope: Scope) -> dict[int, int]:
    rows = (
        scope.visible(Incident)
        .filter(state=IncidentState.OPEN)
        .values("monitor__site_id")
        .annotate(n=Count("pk"))
    )
    return {row["monitor__site_id"]: row["n"] for row in rows}


def dashboard(scope: Scope, *, page_number: str | None, now: datetime) -> Dashboard:
    """The dashboard's figures for one page of clients.

    1. Every visible site's state and open incidents (three queries), counted per client.
    2. The sites that need attention, at most ``ATTENTION_SITES``, down ones first, with
       their figures now (``front.summaries.site_rows``).
    3. The clients, those with a problem first, then by name; one page of them with their
       stored standings (``sla.standings.current``).
    """
    states, client_of = site_states(scope)
    incidents = open_incidents_by_site(scope)
    totals = SiteCounts()
    counts: dict[int, SiteCounts] = defaultdict(SiteCounts)
    for site_id, status in states.items():
        for tally in (totals, counts[client_of[site_id]]):
            tally.sites += 1
            tally.down += status == Status.DOWN
            tally.other += status in (Status.UNKNOWN, Status.PAUSED)
            tally.open_incidents += incidents.get(site_id, 0)
    needing = sorted(
        (pk for pk, status in states.items() if status == Status.DOWN or incidents.get(pk)),
        key=lambda pk: (states[pk] != Status.DOWN, pk),
    )
    attention = _attention(scope, needing[:ATTENTION_SITES], now=now)
    clients = list(scope.visible(Client).order_by("name", "pk"))
    clients.sort(key=lambda c: not counts[c.pk].has_problem)  # stable: by name within
    page = Paginator(clients, PAGE_SIZE).get_page(page_number)
    shown = list(page.object_list)
    standings = {s.client.pk: s for s in current(shown, now=now)}
    lines = [ClientLine(c, counts[c.pk], standings.get(c.pk)) for c in shown]
    as_of = min((s.as_of for s in standings.values()), default=None)
    return Dashboard(
        totals=totals,
        attention=attention,
        attention_more=max(len(needing) - ATTENTION_SITES, 0),
        page=page,
        as_of=as_of,
        lines=lines,
    )


def _attention(scope: Scope, site_ids: list[int], *, now: datetime) -> list[ClientRow]:
    """The given sites' rows, grouped by client (clients by name), down sites first."""
    sites = scope.visible(Site).filter(pk__in=site_ids).select_related("client")
    rows: dict[int, ClientRow] = {}
    ordered: list[SiteRow] = sorted(
        site_rows(scope, sites, now=now),
        key=lambda row: (row.status != Status.DOWN, row.site.name, row.site.pk),
    )
    for row in ordered:
        client = row.site.client
        rows.setdefault(client.pk, ClientRow(client=client)).sites.append(row)
    return sorted(rows.values(), key=lambda r: (r.client.name.casefold(), r.client.pk))
