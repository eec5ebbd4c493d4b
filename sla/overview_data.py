"""The agency's SLA overview (``sla.overview``) as JSON-ready data, for the API.

Every value has the format of the client's own SLA answer (``sla.serialize``): percentages
are strings rounded *down* to 3 decimals, durations seconds, moments ISO 8601 in UTC, money
strings with cents. A figure that needs an assessed window (target, verdict, budget,
breaches, credit) is null for a client whose plan history gives this window no plan. The
verdict, ``met``, ``credit`` and ``credit_if_ended_now`` mean what they mean in the client's
answer: a running window is ``missed`` only once certain, and its credit owed is only the
part already certain.
"""

from __future__ import annotations

from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from sla.budget import ErrorBudget
from sla.overview import ClientStanding
from sla.plan_data import money, plain
from sla.report import Credit
from sla.serialize import ClientRef, Seconds, optional_moment, rounded_down, seconds


class StandingBudgetData(TypedDict):
    allowed_seconds: Seconds
    consumed_seconds: Seconds
    remaining_seconds: Seconds
    consumed_percent: str | None  # null: the target allows no downtime
    burn_rate: str | None
    exhausted: bool
    exhausted_at: str | None
    runs_out_at: str | None


class StandingCreditData(TypedDict):
    percent: str
    amount: str
    currency: str


class StandingData(TypedDict):
    client: ClientRef
    plan: str | None  # the slug of the plan judging this window; null: none
    in_force: bool  # false: no plan judges this window (none yet, or a "no plan" step)
    window: str  # the current window's label ("2026-10", "2026-Q4"); this month without a plan
    time_zone: str
    availability_percent: str | None  # so far; null: nothing known yet
    target: str | None
    verdict: str | None  # on_track, at_risk, missed, met, unknown; null: no plan in force
    met: bool | None  # a final verdict only: true (met), false (missed); else null
    budget: StandingBudgetData | None
    breaches: int | None
    credit: StandingCreditData | None  # owed (while running: the part already certain)
    credit_if_ended_now: StandingCreditData | None  # while running; null once closed


def standing_data(standing: ClientStanding) -> StandingData:
    """One client's standing in the shape of the overview answer."""
    client = standing.client
    window = standing.window
    return {
        "client": {"id": client.pk, "slug": client.slug, "name": client.name},
        "plan": None if standing.plan is None else standing.plan.slug,
        "in_force": window is not None,
        "window": standing.period.label,
        "time_zone": standing.period.time_zone,
        "availability_percent": standing.figures.percent_display(),
        "target": None if window is None else plain(window.target),
        "verdict": None if window is None else str(window.verdict.value),
        "met": standing.met,
        "budget": None if window is None else _budget(window.budget),
        "breaches": standing.breach_count,
        "credit": None if window is None else _credit(window.credit),
        "credit_if_ended_now": None
        if window is None or window.credit_if_ended_now is None
        else _credit(window.credit_if_ended_now),
    }


def _budget(budget: ErrorBudget) -> StandingBudgetData:
    consumed = budget.consumed_percent
    rate = budget.burn_rate
    return {
        "allowed_seconds": seconds(budget.allowed),
        "consumed_seconds": seconds(budget.consumed),
        "remaining_seconds": seconds(budget.remaining),
        "consumed_percent": None if consumed is None else rounded_down(consumed),
        "burn_rate": None if rate is None else rounded_down(rate),
        "exhausted": budget.is_exhausted,
        "exhausted_at": optional_moment(budget.exhausted_at),
        "runs_out_at": optional_moment(budget.runs_out_at),
    }


def _credit(credit: Credit) -> StandingCreditData:
    return {
        "percent": plain(credit.percent),
        "amount": money(credit.amount),
        "currency": credit.currency,
    }
