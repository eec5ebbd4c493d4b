"""The agency's SLA overview: where each client stands in its plan's current window.

One standing per client, from ``sla.report.client_sla`` over the current window: the one the
step of the client's plan history judging ``now`` measures (``sla.plan_history``; this month in
the installation's zone without a plan), so every figure is the one the client's own SLA page
shows. Clients whose window is assessed come first, the riskiest at the top; clients without
a plan in this window come after them by name (their availability is measured in the same
way, with no target).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sla.availability import Availability
from sla.budget import ErrorBudget
from sla.models import CarePlan, ClientPlan
from sla.periods import Period
from sla.plan_history import PlanHistory, plan_histories
from sla.report import ClientSla, Credit, WindowAssessment, client_sla
from sla.verdicts import Verdict
from tenancy.models import Client


@dataclass(frozen=True)
class ClientStanding:
    """One client's current window: availability so far, and with a plan in force its
    target, error budget, breaches and credit so far."""

    client: Client
    plan: CarePlan | None  # the plan judging the current window
    assignment: ClientPlan | None  # the step of the client's history that has it
    period: Period  # the plan's current window; without a plan, this month
    figures: Availability  # over ``period``, in the plan's calendar (24/7 without one)
    window: WindowAssessment | None  # None: no plan in this window
    upcoming: ClientPlan | None = None  # without a plan: the next step with one, if any

    @property
    def budget(self) -> ErrorBudget | None:
        return None if self.window is None else self.window.budget

    @property
    def verdict(self) -> Verdict | None:
        """On track, at risk, missed (certain) or met (None: no plan in this window)."""
        return None if self.window is None else self.window.verdict

    @property
    def met(self) -> bool | None:
        """True once met, False once missed for certain (None: not known yet, or no plan)."""
        return None if self.window is None else self.window.met

    @property
    def breach_count(self) -> int | None:
        return None if self.window is None else len(self.window.breaches)

    @property
    def credit(self) -> Credit | None:
        return None if self.window is None else self.window.credit

    @property
    def exhausted(self) -> bool:
        budget = self.budget
        return budget is not None and budget.is_exhausted

    @property
    def consumed_share(self) -> Fraction:
        """The share of the budget gone (0 with no budget, or one that allows no downtime)."""
        budget = self.budget
        ratio = None if budget is None else budget.consumed_ratio
        return Fraction(0) if ratio is None else ratio


def overview(clients: Iterable[Client], *, now: datetime) -> list[ClientStanding]:
    """Each client's standing in its current window, the riskiest first.

    1. The clients' plan histories, in one query.
    2. Per client, the step judging the current window and that window (the plan's month or
       quarter in the plan's zone; this month in the installation's zone without a plan),
       and ``client_sla`` over it.
    3. Sorted: assessed windows first (used-up budgets, then by the share of the budget
       consumed, largest first, then by name), then the rest by name.
    """
    clients = list(clients)
    histories = plan_histories([client.pk for client in clients])
    standings = [_standing(client, histories[client.pk], now=now) for client in clients]
    return sorted(standings, key=_risk_order)


def _standing(client: Client, history: PlanHistory, *, now: datetime) -> ClientStanding:
    judgement = history.current(now)
    period = judgement.window
    sla: ClientSla = client_sla(client, period, now=now, judgement=judgement)
    return ClientStanding(
        client, sla.plan, sla.assignment, sla.period, sla.figures, sla.window, sla.upcoming
    )


def _risk_order(standing: ClientStanding) -> tuple[bool, bool, Fraction, str, int]:
    name = standing.client.name.casefold()
    return (
        standing.window is None,
        not standing.exhausted,
        -standing.consumed_share,
        name,
        standing.client.pk,
    )
