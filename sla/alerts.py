"""Error-budget alerts: when half, and then all, of a client's budget for the window is gone.

The alert sender's loop calls :func:`handle_one_budget_check`; at most every
``SITECARE_BUDGET_CHECK_SECONDS`` it works out, for each client with a plan history, the
budget of the current window under the step that judges it (``sla.plan_history``), and raises
the levels it has reached. A level is raised once per client and window
(``BudgetAlert``'s unique key), in the same transaction as its notifications, which go through
the outbox to the client's channels and the agency-wide ones, like incident alerts (a site's
own channels are for that site's incidents). Half the budget is a *minor* event, all of it a
*major* one, so a channel's minimum severity applies as for incidents.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.models import Channel, Notification
from incidents.models.core import EventKind, Severity, severities_at_most
from incidents.templating import human_duration
from sla.budget import ErrorBudget, error_budget
from sla.models import BudgetAlert, BudgetAlertLevel, CarePlan, ClientPlan
from sla.periods import Period
from sla.plan_data import plain
from sla.plan_history import plan_histories
from sla.report import load_client
from sla.serialize import floored
from tenancy.models import Client

logger = logging.getLogger(__name__)

_LEVEL_SEVERITY = {
    BudgetAlertLevel.HALF: Severity.MINOR,
    BudgetAlertLevel.EXHAUSTED: Severity.MAJOR,
}
_LEVEL_EVENT = {
    BudgetAlertLevel.HALF: EventKind.BUDGET_HALF,
    BudgetAlertLevel.EXHAUSTED: EventKind.BUDGET_EXHAUSTED,
}
_last_check = 0.0  # monotonic time of the last round in this process


def handle_one_budget_check(now: datetime) -> int:
    """Check every client's budget if the check interval has passed; alerts raised."""
    global _last_check
    if time.monotonic() - _last_check < settings.SITECARE_BUDGET_CHECK_SECONDS:
        return 0
    _last_check = time.monotonic()
    return check_budgets(now)


def check_budgets(now: datetime) -> int:
    """Raise the budget levels each client has reached in its current window.

    1. Every client with a step in its plan history, their histories in one query.
    2. Per client, the step that judges the current window; none with a plan: nothing to do.
    3. The budget of that window under that plan, and the levels it has reached.
    """
    raised = 0
    client_ids = list(
        ClientPlan.objects.order_by("client_id").values_list("client_id", flat=True).distinct()
    )
    for history in plan_histories(client_ids, with_clients=True).values():
        judgement = history.current(now)
        assignment, plan, window = judgement.assignment, judgement.plan, judgement.window
        if assignment is None or plan is None:
            continue
        loaded = load_client(
            assignment.client,
            window.start,
            window.end,
            exclude_maintenance=plan.exclude_maintenance,
            now=now,
        )
        budget = error_budget(
            loaded.timeline,
            plan.calendar(),
            window.start,
            window.end,
            target=plan.availability_target,
            excluded=loaded.excluded,
            now=now,
            unknown_time=plan.unknown_time,
        )
        for level in reached_levels(budget):
            raised += raise_level(assignment.client, plan, window, budget, level, now=now)
    return raised


def raised_alerts(client: Client, window: Period) -> list[BudgetAlert]:
    """The budget alerts already raised for the client in this window, lowest level first."""
    return list(
        BudgetAlert.objects.filter(client=client, window_start=window.start).order_by("level")
    )


def reached_levels(budget: ErrorBudget) -> list[BudgetAlertLevel]:
    """The levels this budget has reached (a target of 100 % has only "used up")."""
    ratio = budget.consumed_ratio
    if ratio is None:
        return [BudgetAlertLevel.EXHAUSTED] if budget.is_exhausted else []
    return [level for level in BudgetAlertLevel if ratio * 100 >= level.value]


def raise_level(
    client: Client,
    plan: CarePlan,
    window: Period,
    budget: ErrorBudget,
    level: BudgetAlertLevel,
    *,
    now: datetime,
) -> int:
    """Record the level and queue its notifications, once per client, window and level."""
    if BudgetAlert.objects.filter(client=client, window_start=window.start, level=level).exists():
        return 0
    used = budget.consumed_percent
    try:
        with transaction.atomic():
            BudgetAlert.objects.create(
                client=client,
                window_start=window.start,
                level=level,
                consumed_percent=floored(used, 2) if used is not None else Decimal(100),
                raised_at=now,
            )
            Notification.objects.bulk_create(
                _notifications(client, plan, window, budget, level, now=now),
                ignore_conflicts=True,
            )
    except IntegrityError:
        return 0  # another sender raised it first
    logger.info("budget alert: %s reached %s%% in %s", client, level.value, window.label)
    return 1


def budget_channels(client: Client, level: BudgetAlertLevel) -> list[Channel]:
    """The client's own channels and the agency-wide ones that admit the level's severity."""
    return list(
        Channel.objects.routable()
        .filter(organization_id=client.organization_id, site__isnull=True)
        .filter(models.Q(client__isnull=True) | models.Q(client=client))
        .filter(min_severity__in=severities_at_most(_LEVEL_SEVERITY[level]))
        .order_by("pk")
    )


def _notifications(
    client: Client,
    plan: CarePlan,
    window: Period,
    budget: ErrorBudget,
    level: BudgetAlertLevel,
    *,
    now: datetime,
) -> list[Notification]:
    with translation.override(client.organization.language):
        title, body = budget_message(client, plan.name, window, budget, level)
    return [
        Notification(
            channel=channel,
            incident=None,
            event=_LEVEL_EVENT[level],
            dedup_key=f"budget:{client.pk}:{window.label}:{level.value}:{channel.pk}",
            title=title[:300],
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        for channel in budget_channels(client, level)
    ]


def budget_message(
    client: Client, plan_name: str, window: Period, budget: ErrorBudget, level: BudgetAlertLevel
) -> tuple[str, str]:
    """The alert's title and body, in the agency's language (active while called)."""
    zone = ZoneInfo(window.time_zone)
    if level == BudgetAlertLevel.EXHAUSTED:
        title = _("[sitecare] %(client)s: error budget used up for %(window)s") % {
            "client": client.name,
            "window": window.label,
        }
    else:
        title = _("[sitecare] %(client)s: half of the error budget used for %(window)s") % {
            "client": client.name,
            "window": window.label,
        }
    used = budget.consumed_percent
    lines = [
        _(
            "%(plan)s allows %(allowed)s of downtime in %(window)s; %(consumed)s is used "
            "(%(percent)s %%)."
        )
        % {
            "plan": plan_name,
            "allowed": human_duration(budget.allowed.total_seconds()),
            "window": window.label,
            "consumed": human_duration(budget.consumed.total_seconds()),
            "percent": floored(used, 2) if used is not None else "—",
        }
    ]
    if budget.exhausted_at is not None:
        lines.append(
            _("It ran out at %(moment)s (%(zone)s).")
            % {"moment": _local(budget.exhausted_at, zone), "zone": window.time_zone}
        )
    if budget.is_exhausted:
        # More downtime than the window's counted basis allows (sla.budget): even if all the
        # time to come is up, the target cannot be met.
        lines.append(
            _("The %(target)s %% target is missed for %(window)s, whatever the rest brings.")
            % {"target": plain(budget.target), "window": window.label}
        )
    elif budget.runs_out_at is not None:
        lines.append(
            _("At this rate the budget runs out on %(moment)s (%(zone)s).")
            % {"moment": _local(budget.runs_out_at, zone), "zone": window.time_zone}
        )
    else:
        lines.append(_("At this rate the budget lasts until the end of the window."))
    lines.append(
        _("Details: %(link)s")
        % {"link": f"{settings.SITECARE_BASE_URL}/clients/{client.pk}/sla/?period={window.label}"}
    )
    return title, "\n".join(lines)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M")
