"""The agency's SLA overview (``/sla/``): which clients are at risk in this window.

Owners and engineers only; everyone else gets 404 (a client's users have their client's own
SLA page). One row per client from ``sla.overview``, as stored by ``sla.standings`` (with the
moment the figures are of), the riskiest first, worded with the SLA
page's helpers (``front.sla_figures``): availability rounded down, the budget used with a
small server-rendered bar, the burn rate, when the budget runs out, the verdict (a running
window is missed only once certain), breaches so far and the credit owed (while the window
runs, only the part already certain; what would be owed if it ended now is shown apart).
Each client's times read in its plan's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
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
from front.sla_figures import money_text, target_text
from front.views.common import agency_scope
from sla.budget import Outlook
from sla.overview_data import StandingCreditData
from sla.serialize import floored
from sla.standings import StoredStanding, current
from sla.verdicts import Verdict
from tenancy.models import Client

BAR_WIDTH, BAR_HEIGHT = 100, 8
BAR_TRACK = "#e5e7eb"
BAR_WARN = "#d97706"  # half of the budget or more gone
WARN_SHARE = Fraction(1, 2)


@dataclass(frozen=True)
class StandingRow:
    """What one row of the overview shows (a client whose window is assessed)."""

    standing: StoredStanding
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


def _moment(value: str | None, time_zone: str) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value)
    return date_format(timezone.localtime(moment, ZoneInfo(time_zone)), moment_format())


def _money(credit: StandingCreditData | None) -> str:
    return "" if credit is None else money_text(Decimal(credit["amount"]), credit["currency"])


def standing_row(standing: StoredStanding) -> StandingRow:
    """The row of a client whose window is assessed (its stored figures in words).

    The stored figures are the API's (``sla.overview_data``): percentages rounded down to
    three decimals, rounded down again here to the page's fewer (the same as rounding the
    exact figure down), moments in UTC, money with its cents.
    """
    figures = standing.figures
    budget, target, credit = figures["budget"], figures["target"], figures["credit"]
    verdict = standing.verdict
    assert budget is not None and target and credit is not None and verdict  # assessed only
    consumed, rate = budget["consumed_percent"], budget["burn_rate"]
    seen = standing.outlook or Outlook.NOTHING_COUNTED
    when = budget["exhausted_at"] if seen == Outlook.USED_UP else budget["runs_out_at"]
    provisional = figures["credit_if_ended_now"]
    if provisional is not None and Decimal(provisional["amount"]) <= Decimal(credit["amount"]):
        provisional = None  # shown only when a running window would owe more (if_ended_now)
    return StandingRow(
        standing=standing,
        availability=_availability(figures["availability_percent"]),
        target=target_text(Decimal(target)),
        # Rounded down, like every SLA percentage: 99.96 % used never shows as 100.0 %.
        consumed="—" if consumed is None else percent_label(floored(Fraction(consumed), 1), 1),
        bar=budget_bar(
            standing.consumed_share,
            exhausted=standing.exhausted,
            at_risk=standing.verdict == Verdict.AT_RISK,
        ),
        burn_rate=None if rate is None else number_format(floored(Fraction(rate), 2), 2),
        outlook=seen,
        when=_moment(when, figures["time_zone"]),
        verdict=str(verdict.label),
        credit=_money(credit),
        if_ended_now=_money(provisional),
    )


def _availability(shown: str | None) -> str:
    """As ``front.sla_figures.availability_text``, from the stored figure."""
    return "—" if shown is None else percent_label(Decimal(shown), 3)


@login_required
@require_GET
def sla_overview_page(request: HttpRequest) -> HttpResponse:
    """Every client's standing in its current window, the riskiest first.

    1. Owners and engineers only (404 for everyone else).
    2. The agency's clients' standings (``sla.standings.current``).
    3. Assessed windows in the table; clients without a plan in force listed apart; when
       the figures were computed (``sla.standings``: stored, or worked out again when they
       no longer hold).
    """
    scope = agency_scope(request)
    now = timezone.now()
    standings = current(scope.visible(Client).order_by("name", "pk"), now=now)
    context = {
        "rows": [standing_row(s) for s in standings if s.assessed],
        "unassessed": [
            (s, _availability(s.figures["availability_percent"]))
            for s in standings
            if not s.assessed
        ],
        "has_clients": bool(standings),
        "can_assign": scope.is_owner,
        "now": now,
        "as_of": min((s.as_of for s in standings), default=now),
    }
    return render(request, "front/sla_overview.html", context)
