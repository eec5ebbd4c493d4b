"""Every client's standing in its current window, stored, for the pages that list them all.

Working out a client's SLA reads its whole window of state changes and walks its calendar
(``sla.report``); the SLA overview and the dashboard need it for every client at once, which
took seconds and hundreds of queries with a thousand sites. So each client's standing
(``sla.overview``, the same figures as its SLA page) is computed by the alert sender's loop,
stored with the moment it was computed for (``as_of``), and read back as it was stored.

A stored standing is used while it still holds; otherwise it is computed again on the spot
(and stored). It no longer holds once:

1. its window has ended (a new month or quarter has begun), or it is from a later moment
   than the one asked about;
2. the client's plan history has changed (a step, a plan's terms, a fee);
3. a state change or a pause event of one of the client's monitors has been recorded since;
4. it is older than ``SITECARE_STANDINGS_MAX_AGE_SECONDS`` (the loop refreshes each one every
   ``SITECARE_STANDINGS_REFRESH_SECONDS``; this bounds it when the loop does not run).

What is left is time passing (an ongoing outage grows, a budget burns) and edits of
maintenance windows, monitors and engine runs: the pages say "as of" when their figures were
computed, and the loop catches up within its interval. Tests compare stored and freshly
computed figures (``sla/tests/test_standings.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import TypedDict

from django.conf import settings
from django.db.models import F, Max, Q
from django.utils import timezone

from monitoring.models import PauseEvent, StateChange
from sla.budget import Outlook
from sla.models import CarePlan, ClientPlan, StandingSnapshot
from sla.overview import ClientStanding, overview
from sla.overview_data import StandingData, standing_data
from sla.periods import Period, PeriodError
from sla.verdicts import Verdict
from tenancy.models import Client

BATCH = 10  # clients the loop refreshes in one round (the alert sender's round stays short)
logger = logging.getLogger(__name__)
_last_round: datetime | None = None
_failed: dict[int, datetime] = {}  # clients whose standing could not be worked out, and when


class PeriodData(TypedDict):
    year: int
    first_month: int
    months: int
    time_zone: str


class SnapshotData(TypedDict):
    """What a snapshot keeps: the overview answer of the API, and what the pages add to it."""

    standing: StandingData
    period: PeriodData
    plan_id: int | None
    outlook: str | None  # sla.budget.Outlook; None without a plan in this window
    consumed_share: str  # exact, "numerator/denominator"
    upcoming_plan_id: int | None
    upcoming_starts_on: str | None


@dataclass(frozen=True)
class StoredStanding:
    """A client's standing as stored (see the module docstring), in the shape the pages use."""

    client: Client
    as_of: datetime
    data: SnapshotData
    plan: CarePlan | None
    upcoming: ClientPlan | None  # without a plan: the next step with one, if any

    @property
    def period(self) -> Period:
        return Period(**self.data["period"])

    @property
    def figures(self) -> StandingData:
        return self.data["standing"]

    @property
    def assessed(self) -> bool:
        return self.figures["in_force"]

    @property
    def verdict(self) -> Verdict | None:
        found = self.figures["verdict"]
        return None if found is None else Verdict(found)

    @property
    def met(self) -> bool | None:
        return self.figures["met"]

    @property
    def breach_count(self) -> int | None:
        return self.figures["breaches"]

    @property
    def exhausted(self) -> bool:
        budget = self.figures["budget"]
        return budget is not None and budget["exhausted"]

    @property
    def outlook(self) -> Outlook | None:
        found = self.data["outlook"]
        return None if found is None else Outlook(found)

    @property
    def consumed_share(self) -> Fraction:
        return Fraction(self.data["consumed_share"])


def snapshot_data(standing: ClientStanding) -> SnapshotData:
    """What is stored of one standing."""
    period, budget, upcoming = standing.period, standing.budget, standing.upcoming
    return {
        "standing": standing_data(standing),
        "period": {
            "year": period.year,
            "first_month": period.first_month,
            "months": period.months,
            "time_zone": period.time_zone,
        },
        "plan_id": None if standing.plan is None else standing.plan.pk,
        "outlook": None if budget is None else str(budget.outlook.value),
        "consumed_share": str(standing.consumed_share),
        "upcoming_plan_id": None if upcoming is None else upcoming.plan_id,
        "upcoming_starts_on": None
        if upcoming is None or upcoming.starts_on is None
        else upcoming.starts_on.isoformat(),
    }


def refresh(clients: Sequence[Client], *, now: datetime) -> dict[int, StandingSnapshot]:
    """Compute the clients' standings at ``now`` and store them; the snapshots, by client.

    1. The last state change and pause event recorded, read before the figures: anything
       recorded later makes the snapshot stale, never the other way round.
    2. The standings (``sla.overview``) and the digests of the clients' plan histories.
    3. Stored in one statement, replacing what each client had.
    """
    if not clients:
        return {}
    last_change = StateChange.objects.aggregate(last=Max("pk"))["last"] or 0
    last_pause = PauseEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    digests = plans_digests([c.pk for c in clients])
    rows = [
        StandingSnapshot(
            client=standing.client,
            as_of=now,
            window_end=standing.period.end,
            plans_digest=digests[standing.client.pk],
            last_change_id=last_change,
            last_pause_id=last_pause,
            data=snapshot_data(standing),
        )
        for standing in overview(clients, now=now)
    ]
    StandingSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["client"],
        update_fields=[
            "as_of",
            "window_end",
            "plans_digest",
            "last_change_id",
            "last_pause_id",
            "data",
        ],
    )
    return {row.client_id: row for row in rows}


def plans_digests(client_ids: Sequence[int]) -> dict[int, str]:
    """A digest of each client's plan history: its steps and their plans' terms (one query)."""
    steps: dict[int, list[list[object]]] = {pk: [] for pk in client_ids}
    plan_fields = [f.attname for f in CarePlan._meta.concrete_fields]
    query = ClientPlan.objects.filter(client_id__in=client_ids).select_related("plan")
    for step in query.order_by("pk"):
        terms = None if step.plan is None else [getattr(step.plan, f) for f in plan_fields]
        steps[step.client_id].append([step.pk, step.starts_on, step.monthly_fee, terms])
    return {
        pk: hashlib.sha256(json.dumps(found, default=str).encode()).hexdigest()
        for pk, found in steps.items()
    }


def current(clients: Iterable[Client], *, now: datetime) -> list[StoredStanding]:
    """The clients' standings, the riskiest first (as ``sla.overview`` orders them).

    1. Their snapshots, the digests of their plan histories, and which of them have state
       changes or pause events recorded after their snapshot (four queries).
    2. Those that no longer hold (module docstring) computed again and stored.
    3. The plans they name (one query).
    """
    clients = list(clients)
    ids = [c.pk for c in clients]
    found = {s.client_id: s for s in StandingSnapshot.objects.filter(client_id__in=ids)}
    digests = plans_digests(ids)
    changed = _changed_since(found)
    oldest = now - timedelta(seconds=settings.SITECARE_STANDINGS_MAX_AGE_SECONDS)
    stale = [
        c
        for c in clients
        if (snapshot := found.get(c.pk)) is None
        or not oldest <= snapshot.as_of <= now
        or snapshot.window_end <= now
        or snapshot.plans_digest != digests[c.pk]
        or c.pk in changed
    ]
    found.update(refresh(stale, now=now))
    plan_ids = {
        pk
        for s in found.values()
        for pk in (s.data["plan_id"], s.data["upcoming_plan_id"])
        if pk is not None
    }
    plans = CarePlan.objects.in_bulk(plan_ids)
    standings = [_stored(client, found[client.pk], plans) for client in clients]
    return sorted(standings, key=_risk_order)


def _changed_since(snapshots: dict[int, StandingSnapshot]) -> set[int]:
    """The clients with a state change or pause event recorded after their snapshot."""
    if not snapshots:
        return set()
    changed: set[int] = set()
    for model, marker in ((StateChange, "last_change_id"), (PauseEvent, "last_pause_id")):
        since = min(getattr(s, marker) for s in snapshots.values())
        newer: dict[int, int] = defaultdict(int)
        rows = (
            model.objects.filter(pk__gt=since, monitor__site__client_id__in=list(snapshots))
            .values("monitor__site__client_id")
            .annotate(last=Max("pk"))
            .values_list("monitor__site__client_id", "last")
        )
        for client_id, last in rows:
            newer[client_id] = last
        changed.update(pk for pk, last in newer.items() if last > getattr(snapshots[pk], marker))
    return changed


def _stored(
    client: Client, snapshot: StandingSnapshot, plans: dict[int, CarePlan]
) -> StoredStanding:
    data: SnapshotData = snapshot.data
    plan_id, upcoming_id = data["plan_id"], data["upcoming_plan_id"]
    upcoming = None
    if upcoming_id is not None:
        starts = data["upcoming_starts_on"]
        upcoming = ClientPlan(
            client=client,
            plan=plans.get(upcoming_id),
            starts_on=None if starts is None else date.fromisoformat(starts),
        )
    return StoredStanding(
        client=client,
        as_of=snapshot.as_of,
        data=data,
        plan=None if plan_id is None else plans.get(plan_id),
        upcoming=upcoming,
    )


def _risk_order(standing: StoredStanding) -> tuple[bool, bool, Fraction, str, int]:
    """As ``sla.overview`` orders: used-up budgets, then by the share used, then by name."""
    return (
        not standing.assessed,
        not standing.exhausted,
        -standing.consumed_share,
        standing.client.name.casefold(),
        standing.client.pk,
    )


def handle_one_refresh(now: datetime) -> int:
    """One step of the alert sender's loop: refresh the stalest snapshots; clients refreshed.

    Every ``SITECARE_STANDINGS_REFRESH_SECONDS`` at most, up to ``BATCH`` clients whose
    snapshot is missing, older than that, or of an ended window, oldest first; a round that
    found a full batch comes back at the next round, so a large agency catches up quickly
    without holding the sender up for long. A client whose standing cannot be worked out
    (``PeriodError``: its current window has not begun in its plan's zone) is logged and
    left for one interval: the sender's alerts must not wait for it.
    """
    global _last_round
    every = timedelta(seconds=settings.SITECARE_STANDINGS_REFRESH_SECONDS)
    if _last_round is not None and _last_round <= now < _last_round + every:
        return 0
    for pk, at in list(_failed.items()):
        if not at <= now < at + every:
            del _failed[pk]
    found = Client.objects.filter(
        Q(standing_snapshot__isnull=True)
        | Q(standing_snapshot__as_of__lt=now - every)
        | Q(standing_snapshot__as_of__gt=now)
        | Q(standing_snapshot__window_end__lte=now)
    ).order_by(F("standing_snapshot__as_of").asc(nulls_first=True), "pk")
    due = [c for c in found[: BATCH + len(_failed)] if c.pk not in _failed][:BATCH]
    refreshed = 0
    for client in due:
        try:
            refresh([client], now=now)
        except PeriodError:
            logger.exception("SLA standing of client %s not worked out", client.pk)
            _failed[client.pk] = now
        else:
            refreshed += 1
    _last_round = None if len(due) == BATCH else now
    return refreshed


def refresh_all(*, now: datetime | None = None) -> int:
    """Every client's snapshot computed at ``now`` (the bench, an operator after an import)."""
    now = now or timezone.now()
    clients = list(Client.objects.order_by("pk"))
    for offset in range(0, len(clients), 100):
        refresh(clients[offset : offset + 100], now=now)
    return len(clients)
