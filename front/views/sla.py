"""A client's SLA page: availability against the target, error budget, history, breaches and
the credit owed, for one month or quarter (``?period=2026-10`` or ``2026-Q4``).

Everyone who sees the client sees the page (a client's users their own client's only; anyone
else gets 404). The figures come from ``sla.report``, under the plan that judged the window
shown (``sla.plan_history``: a past window keeps the plan the client had then); times are
shown in that plan's time zone (without a plan: the installation's, around the clock, with no
target).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from front.pause_words import pause_line, paused_sla_note
from front.sla_figures import page_context
from monitoring.models import Monitor
from monitoring.pauses import pauses_between
from sla.periods import Period, PeriodError, parse_period
from sla.plan_history import plan_history, reporting_zone
from sla.report import client_sla, monthly_history
from tenancy.models import Client
from tenancy.scoping import scope_for

HISTORY_MONTHS = 12
FIRST_YEAR, LAST_YEAR = 1971, 9998  # periods the clock arithmetic can always hold


def _asked_period(raw: str, time_zone: str) -> Period:
    """The period in the address, or PeriodError with a message for people."""
    period = parse_period(raw, time_zone)
    if not FIRST_YEAR <= period.year <= LAST_YEAR:
        raise PeriodError(_("period: %(text)s is out of the range this page shows") % {"text": raw})
    return period


@login_required
@require_GET
def client_sla_page(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's SLA for the period asked for, the current window by default.

    1. Load the client through the user's scope, and its plan history: the current window is
       the one the step judging now measures.
    2. Read the period (in the current plan's zone); a bad one, or one not begun yet, is
       reported on the page, which shows the current window.
    3. The step that judged that period: the client's figures, the window's assessment and
       twelve months of history, all in that plan's zone and calendar.
    """
    scope = scope_for(request.user)
    client = scope.get(Client, pk=client_id)
    now = timezone.now()
    history = plan_history(client)
    judgement = history.current(now)
    current = judgement.window
    period, period_error = current, ""
    raw = request.GET.get("period", "").strip()
    if raw:
        try:
            period = _asked_period(raw, reporting_zone(judgement.plan))
        except PeriodError as exc:
            period_error = str(exc)
    if period != current:
        try:
            sla = client_sla(client, period, now=now, judgement=history.judge(period))
        except PeriodError as exc:  # not begun yet: say so, and show the current window
            period_error, period = str(exc), current
    if period == current:
        sla = client_sla(client, period, now=now, judgement=judgement)
    period, zone = sla.period, sla.period.time_zone
    history_rows = monthly_history(
        client, sla.plan, period.months_within()[-1], months=HISTORY_MONTHS, now=now
    )
    following = period.following()
    monitors = scope.visible(Monitor).filter(site__client=client, critical=True)
    pauses = pauses_between(list(monitors.select_related("site")), period.start, period.end)
    context = {
        # Pauses of the monitors that count, worded for the reader (the agency's names are
        # not shown to a client's users).
        "pauses": [
            (
                pause,
                pause_line(pause.paused, agency=scope.is_agency),
                "" if pause.resumed is None else pause_line(pause.resumed, agency=scope.is_agency),
            )
            for pause in pauses
        ],
        "paused_note": paused_sla_note(sla.plan),
        "client": client,
        "period": period,
        "period_error": period_error,
        "current": current,
        "previous": period.previous(),
        "following": following if following.start <= now else None,
        "is_current": (period.year, period.first_month, period.months)
        == (current.year, current.first_month, current.months),
        "zone": zone,
        "now": now,
        "can_assign": scope.is_owner,
        **page_context(sla, history_rows, now=now),
    }
    with timezone.override(zone):  # every time on the page reads in the plan's zone
        return render(request, "front/sla_page.html", context)
