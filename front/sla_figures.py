"""What the SLA and care-plan pages show: a client's SLA figures (``sla.report``) turned into
the rows, sentences and charts of the page, and a plan's calendar in a few words.

Nothing here computes an SLA figure: percentages come from ``Availability.percent_display``
(rounded down, so a shown figure never claims a missed target) and budgets, with the burn
and even-pace series of the budget chart, from ``sla.budget``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from front.charts import wide_and_narrow
from front.charts_sla import HistoryBar, budget_svg, history_svg, percent_label
from front.formatting import human_duration
from sitecare.lib.intervals import ZERO
from sla.alerts import raised_alerts
from sla.availability import Availability
from sla.calendar import WEEKDAYS, wall_clock_moment
from sla.models import CarePlan, UnknownTime
from sla.periods import Period
from sla.report import BreachKind, ClientSla, Credit, WindowAssessment
from sla.response import IncidentTimes
from sla.serialize import floored
from sla.verdicts import Verdict, best_reachable_percent, verdict


def availability_text(figures: Availability) -> str:
    """The availability rounded down ("99.900 %"), or a dash when nothing is known."""
    shown = figures.percent_display()
    return "—" if shown is None else percent_label(Decimal(shown), 3)


# The summary tile each verdict gets: final or certain misses stand out red, a risk amber,
# nothing known grey; met and on track green.
VERDICT_STYLE = {
    Verdict.MET: "stat--up",
    Verdict.ON_TRACK: "stat--up",
    Verdict.AT_RISK: "stat--risk",
    Verdict.MISSED: "stat--down",
    Verdict.UNKNOWN: "stat--other",
}
# The same colours as a badge, for tables (history, months, the overview).
VERDICT_BADGE = {
    Verdict.MET: "badge--up",
    Verdict.ON_TRACK: "badge--up",
    Verdict.AT_RISK: "badge--risk",
    Verdict.MISSED: "badge--down",
    Verdict.UNKNOWN: "badge--unknown",
}


# The history chart's bar for each verdict (``front.charts_sla.BAR_FILL``).
BAR_KIND = {Verdict.MET: "met", Verdict.MISSED: "missed", Verdict.AT_RISK: "risk"}


def availability_style(verdict: Verdict, *, complete: bool) -> str:
    """The tile of a window's availability: a closed window's figure green at or above the
    target and red below; a running window's is provisional, so never green: neutral while on
    track, amber while at risk (below the target so far), red once missed for certain."""
    if verdict == Verdict.ON_TRACK or (verdict == Verdict.MET and not complete):
        return "stat--neutral"
    return VERDICT_STYLE[verdict]


def unknown_time_text(plan: CarePlan | None) -> str:
    """How the figures count unknown time, in a few words for the page's heading."""
    if plan is None or plan.unknown_time == UnknownTime.EXCLUDED:
        return _("unknown time left out")
    if plan.unknown_time == UnknownTime.UP:
        return _("unknown time counted as up")
    return _("unknown time counted as down")


def target_text(target: Decimal) -> str:
    """A plan's target as written: "99.9 %", "100 %"."""
    return percent_label(Decimal(format(target.normalize(), "f")), None)


def duration_text(duration: timedelta | None) -> str:
    return human_duration(None if duration is None else duration.total_seconds())


def money_text(amount: Decimal, currency: str) -> str:
    return _("%(amount)s %(currency)s") % {
        "amount": number_format(amount, 2, force_grouping=True),
        "currency": currency,
    }


def calendar_summary(plan: CarePlan) -> str:
    """The plan's counted time in a few words: "Mon–Fri 08:00–16:00 · holidays: PL · …"."""
    parts = [_("24/7") if not plan.business_hours else _hours_summary(plan.business_hours)]
    if plan.holiday_country:
        region = plan.holiday_country.upper()
        if plan.holiday_subdivision:
            region = f"{region}-{plan.holiday_subdivision}"
        parts.append(_("public holidays: %(region)s") % {"region": region})
    if plan.closed_dates:
        count = len(plan.closed_dates)
        parts.append(
            ngettext("%(count)d closed day", "%(count)d closed days", count) % {"count": count}
        )
    parts.append(plan.time_zone)
    return " · ".join(parts)


def _hours_summary(hours: dict[str, str]) -> str:
    """Runs of weekdays with the same hours: "Mon–Fri 08:00–16:00, Sat 09:00–13:00"."""
    runs: list[tuple[int, int, str]] = []
    for number, day in enumerate(WEEKDAYS):
        span = hours.get(day)
        if span is None:
            continue
        if runs and runs[-1][1] == number - 1 and runs[-1][2] == span:
            runs[-1] = (runs[-1][0], number, span)
        else:
            runs.append((number, number, span))
    return ", ".join(
        f"{WEEKDAYS_ABBR[first]}{'' if first == last else '–' + str(WEEKDAYS_ABBR[last])} "
        f"{span.replace('-', '–')}"
        for first, last, span in runs
    )


def credit_tiers_text(plan: CarePlan) -> list[str]:
    """Each credit tier as a line: "below 99.9 %: 10 % of the fee"."""
    return [
        _("below %(below)s: %(percent)s of the fee")
        % {
            "below": target_text(Decimal(tier["below"])),
            "percent": target_text(Decimal(tier["percent"])),
        }
        for tier in plan.credits
    ]


@dataclass(frozen=True)
class BreachRow:
    kind: str
    priority: str
    what: str
    target: str
    actual: str
    incident_id: int | None


def breach_rows(window: WindowAssessment) -> list[BreachRow]:
    """The window's breaches with their figures in words (durations in calendar time)."""
    timers: dict[int, IncidentTimes] = {t.incident_id: t for t in window.incidents}
    rows = []
    for breach in window.breaches:
        kind = str(BreachKind(breach.kind).label)
        if breach.kind == BreachKind.AVAILABILITY:
            target, actual = target_text(window.target), availability_text(window.figures)
            rows.append(BreachRow(kind, "", "", target, actual, None))
            continue
        timer = timers.get(breach.incident_id) if breach.incident_id is not None else None
        if timer is None:  # not expected: a timer breach comes from an incident of the window
            rows.append(
                BreachRow(
                    kind,
                    breach.priority,
                    "",
                    duration_text(breach.target_time),
                    duration_text(breach.actual_time),
                    breach.incident_id,
                )
            )
            continue
        if breach.kind == BreachKind.RESPONSE:
            spent, allowed = timer.response, timer.response_target
        else:
            spent, allowed = timer.resolution, timer.resolution_target
        rows.append(
            BreachRow(
                kind,
                str(timer.priority.label),
                timer.what,
                duration_text(allowed),
                duration_text(spent),
                breach.incident_id,
            )
        )
    return rows


def local_days(start: datetime, end: datetime, time_zone: str) -> list[tuple[date, datetime]]:
    """Each local midnight in ``[start, end)`` (the first day's too), as (date, UTC moment)."""
    zone = ZoneInfo(time_zone)
    day = start.astimezone(zone).date()
    found = []
    while (moment := wall_clock_moment(datetime.combine(day, time(0)), zone)) < end:
        if moment >= start:
            found.append((day, moment))
        day += timedelta(days=1)
    return found


def budget_chart(window: WindowAssessment, client_name: str) -> SafeString:
    """The budget chart, drawn wide and narrow (``front.charts.wide_and_narrow``)."""
    budget = window.budget
    days = local_days(budget.start, budget.end, window.period.time_zone)
    return wide_and_narrow(
        partial(
            budget_svg,
            start=budget.start,
            end=budget.end,
            days=days,
            allowed=budget.allowed,
            burn=budget.burn,
            pace=list(budget.pace),
            title=_("Error budget of %(client)s, %(window)s")
            % {"client": client_name, "window": window.period.label},
            legend=(_("Used"), _("Allowance"), _("Even pace")),
        )
    )


@dataclass(frozen=True)
class HistoryRow:
    period: Period
    figures: Availability
    shown: str
    verdict: Verdict | None  # None: no target
    started: bool  # False for a month still ahead


def history_rows(
    sla: ClientSla,
    history: list[tuple[Period, Availability]],
    *,
    now: datetime,
) -> list[HistoryRow]:
    """Each month with its figures so far (the running month's days to come apart) and its
    verdict against the target: a running month is missed only once certain."""
    target = sla.plan.availability_target if sla.plan is not None else None
    rows = []
    for period, figures in history:
        judged = None
        if target is not None:
            judged = verdict(figures, target, complete=period.end <= now)
        rows.append(
            HistoryRow(
                period,
                figures,
                availability_text(figures),
                judged,
                started=period.start <= now,
            )
        )
    return rows


def history_chart(rows: list[HistoryRow], target: Decimal | None, client_name: str) -> SafeString:
    bars = [
        HistoryBar(
            label=date_format(
                date(row.period.year, row.period.first_month, 1), "YEAR_MONTH_FORMAT"
            ),
            percent=None if row.figures.percent is None else float(row.figures.percent),
            shown=row.shown,
            kind=BAR_KIND.get(row.verdict, "provisional") if row.verdict else "provisional",
        )
        for row in rows
    ]
    return wide_and_narrow(
        partial(
            history_svg,
            bars,
            target=target,
            title=_("Availability of %(client)s by month") % {"client": client_name},
            target_label=_("Target %(target)s") % {"target": target_text(target)}
            if target is not None
            else "",
        )
    )


@dataclass(frozen=True)
class MonthRow:
    """One month of a quarter judged month by month (``ClientSla.months``), in words."""

    period: Period
    plan: CarePlan | None
    window: WindowAssessment | None
    availability: str
    target: str
    verdict: Verdict | None
    credit: str
    if_ended_now: str


def month_rows(sla: ClientSla) -> list[MonthRow]:
    rows = []
    for month in sla.months:
        window = month.window
        if window is None:
            rows.append(MonthRow(month.period, month.plan, None, "—", "—", None, "—", ""))
            continue
        provisional = if_ended_now(window)
        rows.append(
            MonthRow(
                month.period,
                month.plan,
                window,
                availability_text(window.figures),
                target_text(window.target),
                window.verdict,
                money_text(window.credit.amount, window.credit.currency),
                "" if provisional is None else money_text(provisional.amount, provisional.currency),
            )
        )
    return rows


def page_context(
    sla: ClientSla, history: list[tuple[Period, Availability]], *, now: datetime
) -> dict[str, Any]:
    """Everything the SLA page shows besides the client, the period and its links."""
    window = sla.window
    plan = sla.plan
    target = plan.availability_target if plan is not None else None
    rows = history_rows(sla, history, now=now)
    context: dict[str, Any] = {
        "plan": plan,
        "assignment": sla.assignment,
        "upcoming": sla.upcoming,
        "figures": sla.figures,
        "availability": availability_text(sla.figures),
        "target": target_text(target) if target is not None else None,
        "calendar": calendar_summary(plan) if plan is not None else _("24/7"),
        "sites": [(site, figures, availability_text(figures)) for site, figures in sla.sites],
        "window": window,
        "availability_style": "stat--other" if sla.figures.percent is None else "stat--neutral",
        "months": month_rows(sla),
        "history": rows,
        "history_chart": history_chart(rows, target, sla.client.name),
    }
    context["unknown_time"] = unknown_time_text(plan)
    if window is not None and plan is not None:
        budget = window.budget
        burn_rate = budget.burn_rate
        context.update(credit_context(window))
        context.update(
            verdict=window.verdict,
            verdict_label=str(Verdict(window.verdict).label),
            verdict_style=VERDICT_STYLE[window.verdict],
            # The period's figure takes the window's colour only when it is the window's own.
            **(
                {"availability_style": availability_style(window.verdict, complete=window.complete)}
                if window.period == sla.period and sla.figures.percent is not None
                else {}
            ),
            window_availability=availability_text(window.figures),
            same_window=window.period == sla.period,
            budget=budget,
            outlook=budget.outlook,
            consumed_percent=None
            if budget.consumed_percent is None
            else percent_label(floored(budget.consumed_percent, 1), 1),
            overspent=budget.remaining < ZERO,
            overspent_by=-budget.remaining,
            burn_rate=None if burn_rate is None else number_format(floored(burn_rate, 2), 2),
            budget_chart=budget_chart(window, sla.client.name),
            budget_alerts=raised_alerts(sla.client, window.period),
            breaches=breach_rows(window),
            credit_tiers=credit_tiers_text(plan),
        )
    return context


def if_ended_now(window: WindowAssessment) -> Credit | None:
    """What a running window would owe if it ended now, when that is more than it owes."""
    shown = window.credit_if_ended_now
    return shown if shown is not None and shown.amount > window.credit.amount else None


def credit_context(window: WindowAssessment) -> dict[str, Any]:
    """The credit owed (final, or the certain part of a running window) and, apart and
    labelled, what a running window would owe if it ended now."""
    credit, provisional = window.credit, if_ended_now(window)
    best = best_reachable_percent(window.figures)
    return {
        "credit": credit,
        "credit_fee": money_text(credit.fee, credit.currency),
        "credit_amount": money_text(credit.amount, credit.currency),
        "credit_percent": target_text(credit.percent),
        # The highest availability a running window can still end with (its certain credit).
        "best_reachable": "—" if best is None else percent_label(Decimal(rounded_up(best)), 3),
        "if_ended_now": provisional,
        "if_ended_now_amount": ""
        if provisional is None
        else money_text(provisional.amount, provisional.currency),
        "if_ended_now_percent": "" if provisional is None else target_text(provisional.percent),
    }


def rounded_up(value: Fraction) -> str:
    """A percentage with 3 decimals rounded up: the bound a figure cannot pass, shown so."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.001"), rounding=ROUND_CEILING))
