"""The agency's SLA overview (``/sla/``): which clients are at risk in this window.

Owners and engineers only; everyone else gets 404 (a client's users have their client's own
SLA page). One row per client from ``sla.overview``, the riskiest first, worded with the SLA
page's helpers (``front.sla_figures``): availability rounded down, the budget used with a
small server-rendered bar, the burn rate, when the budget runs out, the verdict (a running
window is missed only once certain), breaches so far and the credit owed (while the window
runs, only the part already certain; what would be owed if it ended now is shown apart).
Each client's times read in its plan's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from front.charts import FAIL
from front.charts_sla import OK, percent_label
from front.formatting import moment_format
from front.sla_figures import availability_text, if_ended_now, money_text, target_text
from front.views.common import agency_scope
from sla.budget import Outlook
from sla.overview import ClientStanding, overview
from sla.serialize import floored
from sla.verdicts import Verdict
from tenancy.models import Client

BAR_WIDTH, BAR_HEIGHT = 100, 8
BAR_TRACK = "#e5e7eb"
BAR_WARN = "#d97706"  # half of the budget or more gone
WARN_SHARE = Fraction(1, 2)


@dataclass(frozen=True)
class StandingRow:
    """What one row of the overview shows (a client whose window is assessed)."""

    standing: ClientStanding
    availability: str
    target: str
    consumed: str  # "37.5 %", or a dash when the target allows no downtime
    bar: SafeString
    burn_rate: str | None  # "1.25"; None before any counted time has passed
    outlook: Outlook
    when: str  # the moment the budget was used up or runs out, in the plan's zone
    verdict: str  # on track, at risk, missed (final or certain), met
    credit: str  # owed: final once closed, the certain part while running
    if_ended_now: str  # what a running window would owe if it ended now, when more; or ""


def budget_bar(share: Fraction, *, exhausted: bool, at_risk: bool = False) -> SafeString:
    """A small bar of the budget used (full once used up); the figure beside it says how much.
    Red once used up, amber from half of it or while the window is at risk, else green."""
    used = Fraction(1) if exhausted else min(max(share, Fraction(0)), Fraction(1))
    filled = float(used) * BAR_WIDTH
    colour = FAIL if exhausted else BAR_WARN if share >= WARN_SHARE or at_risk else OK
    # Safe to mark: only numbers and constants go in.
    return mark_safe(  # noqa: S308
        f'<svg xmlns="http://www.w3.org/2000/svg" class="budget-bar" width="{BAR_WIDTH}" '
        f'height="{BAR_HEIGHT}" viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" aria-hidden="true">'
        f'<rect width="{BAR_WIDTH}" height="{BAR_HEIGHT}" rx="2" fill="{BAR_TRACK}"/>'
        f'<rect width="{filled:.1f}" height="{BAR_HEIGHT}" rx="2" fill="{colour}"/></svg>'
    )


def _moment(value: datetime | None, time_zone: str) -> str:
    if value is None:
        return ""
    return date_format(timezone.localtime(value, ZoneInfo(time_zone)), moment_format())


def standing_row(standing: ClientStanding) -> StandingRow:
    """The row of a client whose window is assessed (its figures in words)."""
    window = standing.window
    assert window is not None  # the caller splits off the others
    budget = window.budget
    consumed, rate = budget.consumed_percent, budget.burn_rate
    seen = budget.outlook
    when = budget.exhausted_at if seen == Outlook.USED_UP else budget.runs_out_at
    provisional = if_ended_now(window)
    return StandingRow(
        standing=standing,
        availability=availability_text(window.figures),
        target=target_text(window.target),
        # Rounded down, like every SLA percentage: 99.96 % used never shows as 100.0 %.
        consumed="—" if consumed is None else percent_label(floored(consumed, 1), 1),
        bar=budget_bar(
            standing.consumed_share,
            exhausted=standing.exhausted,
            at_risk=window.verdict == Verdict.AT_RISK,
        ),
        burn_rate=None if rate is None else number_format(floored(rate, 2), 2),
        outlook=seen,
        when=_moment(when, window.period.time_zone),
        verdict=str(Verdict(window.verdict).label),
        credit=money_text(window.credit.amount, window.credit.currency),
        if_ended_now=""
        if provisional is None
        else money_text(provisional.amount, provisional.currency),
    )


@login_required
@require_GET
def sla_overview_page(request: HttpRequest) -> HttpResponse:
    """Every client's standing in its current window, the riskiest first.

    1. Owners and engineers only (404 for everyone else).
    2. The overview of the agency's clients at one moment.
    3. Assessed windows in the table; clients without a plan in force listed apart.
    """
    scope = agency_scope(request)
    now = timezone.now()
    standings = overview(scope.visible(Client).order_by("name", "pk"), now=now)
    context = {
        "rows": [standing_row(s) for s in standings if s.window is not None],
        "unassessed": [(s, availability_text(s.figures)) for s in standings if s.window is None],
        "has_clients": bool(standings),
        "can_assign": scope.is_owner,
        "now": now,
    }
    return render(request, "front/sla_overview.html", context)
