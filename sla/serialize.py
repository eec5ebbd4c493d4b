"""One JSON shape for a client's SLA: what the API answers and the CLI prints
(``sitecare sla --json``); a plan's terms are in ``sla.plan_data``.

- Durations are seconds (a whole number when the duration is, else with microseconds);
- percentages are strings with 3 decimals rounded *down* (``"99.900"``), so a shown figure
  never claims a target that was missed; ``availability_exact`` is the exact percentage as a
  fraction (``"999/10"``) for whoever needs to check a figure to the microsecond;
- money and other decimals are strings (exact), datetimes ISO 8601 in UTC (``…Z``);
- unknown time (nobody watched) and excluded time (maintenance, by the plan's policy) are
  separate figures, never folded into up or down time; ``unknown_time`` says how the
  availability figure counts unknown time (``excluded``, ``up`` or ``down``, the plan's
  policy), and the budget's consumed time includes it when the plan counts it as down;
- a window has a ``verdict``: ``met`` or ``missed`` once closed (``unknown`` with nothing
  counted); while it runs ``missed`` only once certain (even if all the time to come were up
  it would end below the target: ``sla.verdicts``), else ``at_risk`` (burn rate above 1),
  ``on_track``, or ``unknown`` while nothing is judged yet. The budget's ``allowed_seconds``
  is the allowance of the window's counted basis (time judged so far and time to come,
  ``sla.budget``) and ``elapsed_percent`` the share of that basis judged so far.
  ``met`` is true or false only with a final verdict (met; missed), null otherwise.
  ``credit`` is what is owed: the final credit of a closed window, the part already certain
  of a running one; ``credit_if_ended_now`` is, while the window runs, what would be owed if
  it ended now (provisional), null once it is closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from sla.availability import Availability
from sla.budget import ErrorBudget
from sla.models import ClientPlan
from sla.periods import Period, month_of, parse_period
from sla.plan_data import PlanData, money, plain, plan_data
from sla.plan_history import plan_history, reporting_zone
from sla.report import (
    Breach,
    ClientSla,
    Credit,
    OutageCause,
    WindowAssessment,
    client_sla,
    monthly_history,
)
from sla.response import IncidentTimes
from sla.verdicts import verdict
from tenancy.models import Client

Seconds = int | float
MAX_HISTORY_MONTHS = 36


class ClientRef(TypedDict):
    id: int
    slug: str
    name: str


class PeriodData(TypedDict):
    label: str
    start: str
    end: str
    time_zone: str


class OutageData(TypedDict):
    start: str
    end: str
    counted_seconds: Seconds


class FiguresData(TypedDict):
    start: str
    end: str
    availability_percent: str | None
    availability_exact: str | None
    in_scope_seconds: Seconds
    excluded_seconds: Seconds
    up_seconds: Seconds
    down_seconds: Seconds
    unknown_seconds: Seconds
    # Counted time no monitor existed yet (before the first was created): not unknown either.
    unmonitored_seconds: Seconds
    # Counted time after now in a running period: not unknown, only not yet lived.
    to_come_seconds: Seconds
    # How the availability figure counts unknown time: "excluded", "up" or "down".
    unknown_time: str
    outage_count: int
    longest_outage_seconds: Seconds
    mttr_seconds: Seconds | None
    mtbf_seconds: Seconds | None
    outages: list[OutageData]


class SiteData(TypedDict):
    id: int
    slug: str
    name: str
    figures: FiguresData


class BurnPoint(TypedDict):
    at: str
    consumed_seconds: Seconds


class BudgetData(TypedDict):
    target: str
    allowed_seconds: Seconds
    consumed_seconds: Seconds
    remaining_seconds: Seconds
    consumed_percent: str | None
    elapsed_percent: str
    burn_rate: str | None
    exhausted: bool
    exhausted_at: str | None
    runs_out_at: str | None
    # nothing_counted, no_allowance, used_up, runs_out or lasts (sla.budget.Outlook)
    outlook: str
    burn: list[BurnPoint]


class BreachData(TypedDict):
    kind: str  # availability (percentages), response or resolution (seconds, calendar time)
    target_percent: str | None
    actual_percent: str | None  # rounded down, as availability_percent
    target_seconds: Seconds | None
    actual_seconds: Seconds | None
    incident_id: int | None
    priority: str


class CreditData(TypedDict):
    percent: str
    fee: str
    amount: str
    currency: str


class CauseData(TypedDict):
    start: str
    end: str
    counted_seconds: Seconds
    sites: list[str]
    incident_ids: list[int]


class IncidentTimerData(TypedDict):
    incident_id: int
    what: str
    priority: str
    opened_at: str
    acknowledged_at: str | None
    resolved_at: str | None
    response_seconds: Seconds
    resolution_seconds: Seconds
    response_target_seconds: Seconds | None
    resolution_target_seconds: Seconds | None
    response_missed: bool
    resolution_missed: bool


class WindowData(TypedDict):
    period: PeriodData
    complete: bool
    verdict: str  # on_track, at_risk, missed, met or unknown (see the module docstring)
    met: bool | None  # a final verdict: true (met), false (missed); null: not known yet
    target: str
    figures: FiguresData
    budget: BudgetData
    breaches: list[BreachData]
    credit: CreditData  # owed: final once closed; while running, the part already certain
    credit_if_ended_now: CreditData | None  # while running: provisional; null once closed
    causes: list[CauseData]
    incidents: list[IncidentTimerData]


class AssignmentData(TypedDict):
    agreed_monthly_fee: str | None
    monthly_fee: str
    starts_on: str | None


class HistoryData(TypedDict):
    period: PeriodData
    figures: FiguresData
    # Against the target of the plan that judged the period asked for (null without one, or
    # for a month not begun): a running month is missed only once certain, as a window is.
    verdict: str | None


class PlanRef(TypedDict):
    id: int
    slug: str
    name: str


class MonthWindowData(TypedDict):
    period: PeriodData
    plan: PlanRef | None  # the plan that judged the month; null: none
    window: WindowData | None  # its assessment; null without a plan


class SlaData(TypedDict):
    client: ClientRef
    period: PeriodData
    plan: PlanData | None  # the plan that judged the window (a past one keeps its plan)
    assignment: AssignmentData | None  # the step of the client's plan history that has it
    # a plan judges the window (then ``window`` is its assessment), or, for a quarter judged
    # month by month, at least one of its months (``months``)
    in_force: bool
    figures: FiguresData
    sites: list[SiteData]
    window: WindowData | None
    # A quarter asked of a client whose plan is measured by the month: the quarter has no
    # window of its own (``window`` is null); each month begun is judged here on its own.
    # Null otherwise.
    months: list[MonthWindowData] | None
    history: list[HistoryData] | None


def sla_data(
    sla: ClientSla,
    history: Sequence[tuple[Period, Availability]] | None = None,
    *,
    now: datetime | None = None,
) -> SlaData:
    """A client's SLA (and, when given, its monthly history, judged at ``now``) as a
    JSON-ready dict."""
    client = sla.client
    target = sla.plan.availability_target if sla.plan is not None else None
    return {
        "client": {"id": client.pk, "slug": client.slug, "name": client.name},
        "period": _period(sla.period),
        "plan": plan_data(sla.plan) if sla.plan is not None else None,
        "assignment": _assignment(sla.assignment) if sla.assignment is not None else None,
        "in_force": sla.window is not None or any(m.window is not None for m in sla.months),
        "figures": _figures(sla.figures),
        "sites": [
            {"id": site.pk, "slug": site.slug, "name": site.name, "figures": _figures(figures)}
            for site, figures in sla.sites
        ],
        "window": _window(sla.window) if sla.window is not None else None,
        "months": [
            {
                "period": _period(month.period),
                "plan": None
                if month.plan is None
                else {"id": month.plan.pk, "slug": month.plan.slug, "name": month.plan.name},
                "window": None if month.window is None else _window(month.window),
            }
            for month in sla.months
        ]
        if sla.months
        else None,
        "history": (
            None
            if history is None
            else [
                {
                    "period": _period(p),
                    "figures": _figures(f),
                    "verdict": None
                    if target is None or now is None or p.start > now
                    else str(verdict(f, target, complete=p.end <= now).value),
                }
                for p, f in history
            ]
        ),
    }


def client_sla_data(
    client: Client, period_text: str | None, *, now: datetime, history: int = 0
) -> SlaData:
    """The client's SLA for a period given as text (default: this month), ready for JSON.

    1. The period is read in the zone of the client's current plan (the installation's
       without one); a bad one raises ``sla.periods.PeriodError``. The plan that judges it
       comes from the client's plan history, so a past window keeps the plan it had.
    2. The SLA of that period; with ``history`` (months, at most ``MAX_HISTORY_MONTHS``),
       the availability of that many months up to the period's last month, in the calendar
       of the plan that judged the period.
    """
    if not 0 <= history <= MAX_HISTORY_MONTHS:
        raise ValueError(f"history: from 0 to {MAX_HISTORY_MONTHS} months")
    steps = plan_history(client)
    zone = reporting_zone(steps.current(now).plan)
    period = parse_period(period_text, zone) if period_text else month_of(now, zone)
    sla = client_sla(client, period, now=now, judgement=steps.judge(period))
    months = None
    if history:
        last = sla.period.months_within()[-1]
        months = monthly_history(client, sla.plan, last, months=history, now=now)
    return sla_data(sla, months, now=now)


def _period(period: Period) -> PeriodData:
    return {
        "label": period.label,
        "start": moment(period.start),
        "end": moment(period.end),
        "time_zone": period.time_zone,
    }


def _assignment(assignment: ClientPlan) -> AssignmentData:
    agreed, fee = assignment.monthly_fee, assignment.fee
    return {
        "agreed_monthly_fee": None if agreed is None else money(Decimal(agreed)),
        "monthly_fee": money(Decimal(fee if fee is not None else 0)),
        "starts_on": optional_date(assignment.starts_on),
    }


def _figures(figures: Availability) -> FiguresData:
    percent = figures.percent
    return {
        "start": moment(figures.start),
        "end": moment(figures.end),
        "availability_percent": figures.percent_display(),
        "availability_exact": None if percent is None else str(percent),
        "in_scope_seconds": seconds(figures.in_scope),
        "excluded_seconds": seconds(figures.excluded),
        "up_seconds": seconds(figures.up),
        "down_seconds": seconds(figures.down),
        "unknown_seconds": seconds(figures.unknown),
        "unmonitored_seconds": seconds(figures.unmonitored),
        "to_come_seconds": seconds(figures.to_come),
        "unknown_time": figures.unknown_time,
        "outage_count": figures.outage_count,
        "longest_outage_seconds": seconds(figures.longest_outage),
        "mttr_seconds": optional_seconds(figures.mttr),
        "mtbf_seconds": optional_seconds(figures.mtbf),
        "outages": [
            {"start": moment(o.start), "end": moment(o.end), "counted_seconds": seconds(o.counted)}
            for o in figures.outages
        ],
    }


def _window(window: WindowAssessment) -> WindowData:
    return {
        "period": _period(window.period),
        "complete": window.complete,
        "verdict": str(window.verdict.value),
        "met": window.met,
        "target": plain(window.target),
        "figures": _figures(window.figures),
        "budget": _budget(window.budget),
        "breaches": [_breach(b) for b in window.breaches],
        "credit": _credit(window.credit),
        "credit_if_ended_now": None
        if window.credit_if_ended_now is None
        else _credit(window.credit_if_ended_now),
        "causes": [_cause(c) for c in window.causes],
        "incidents": [_timer(t) for t in window.incidents],
    }


def _budget(budget: ErrorBudget) -> BudgetData:
    consumed = budget.consumed_percent
    rate = budget.burn_rate
    return {
        "target": plain(budget.target),
        "allowed_seconds": seconds(budget.allowed),
        "consumed_seconds": seconds(budget.consumed),
        "remaining_seconds": seconds(budget.remaining),
        "consumed_percent": None if consumed is None else rounded_down(consumed),
        "elapsed_percent": rounded_down(budget.elapsed * 100),
        "burn_rate": None if rate is None else rounded_down(rate),
        "exhausted": budget.is_exhausted,
        "exhausted_at": optional_moment(budget.exhausted_at),
        "runs_out_at": optional_moment(budget.runs_out_at),
        "outlook": str(budget.outlook.value),
        "burn": [{"at": moment(at), "consumed_seconds": seconds(used)} for at, used in budget.burn],
    }


def _breach(breach: Breach) -> BreachData:
    return {
        "kind": str(breach.kind.value),
        "target_percent": None if breach.target_percent is None else plain(breach.target_percent),
        "actual_percent": None
        if breach.actual_percent is None
        else rounded_down(breach.actual_percent),
        "target_seconds": optional_seconds(breach.target_time),
        "actual_seconds": optional_seconds(breach.actual_time),
        "incident_id": breach.incident_id,
        "priority": breach.priority,
    }


def _credit(credit: Credit) -> CreditData:
    return {
        "percent": plain(credit.percent),
        "fee": money(credit.fee),
        "amount": money(credit.amount),
        "currency": credit.currency,
    }


def _cause(cause: OutageCause) -> CauseData:
    return {
        "start": moment(cause.start),
        "end": moment(cause.end),
        "counted_seconds": seconds(cause.counted),
        "sites": list(cause.sites),
        "incident_ids": list(cause.incident_ids),
    }


def _timer(timer: IncidentTimes) -> IncidentTimerData:
    return {
        "incident_id": timer.incident_id,
        "what": timer.what,
        "priority": str(timer.priority.value),
        "opened_at": moment(timer.opened_at),
        "acknowledged_at": optional_moment(timer.acknowledged_at),
        "resolved_at": optional_moment(timer.resolved_at),
        "response_seconds": seconds(timer.response),
        "resolution_seconds": seconds(timer.resolution),
        "response_target_seconds": optional_seconds(timer.response_target),
        "resolution_target_seconds": optional_seconds(timer.resolution_target),
        "response_missed": timer.response_missed,
        "resolution_missed": timer.resolution_missed,
    }


# --- value formats ---------------------------------------------------------------------------


def seconds(duration: timedelta) -> Seconds:
    """A duration in seconds: a whole number when it is one, else with its microseconds."""
    whole = duration.days * 86_400 + duration.seconds
    if not duration.microseconds:
        return whole
    return whole + duration.microseconds / 1_000_000


def optional_seconds(duration: timedelta | None) -> Seconds | None:
    return None if duration is None else seconds(duration)


def moment(value: datetime) -> str:
    """ISO 8601 in UTC, ``Z`` for the zone: ``2026-10-01T00:00:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def optional_moment(value: datetime | None) -> str | None:
    return None if value is None else moment(value)


def optional_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def rounded_down(value: Fraction) -> str:
    """An exact figure with 3 decimals, rounded toward zero for non-negative values (floor)."""
    return str(floored(value, 3))


def floored(value: Fraction, places: int) -> Decimal:
    """An exact figure rounded down to ``places`` decimals: the API's three, and the fewer the
    page, the overview, ``sitecare sla`` and the budget alerts show (budget used to 0.1 %, burn
    rate to 0.01), so a figure never claims more than its exact value."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)
