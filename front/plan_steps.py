"""What the client's plan panel shows: the current plan and the plan history, from
``sla.plan_history`` (which step is current and which are scheduled is decided there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings

from sla.models import ClientPlan
from sla.periods import month_of
from sla.plan_history import plan_history
from tenancy.models import Client


@dataclass(frozen=True)
class StepRow:
    """One step of the history table."""

    step: ClientPlan
    current: bool
    scheduled: bool


def plan_panel(client: Client, *, now: datetime) -> dict[str, Any]:
    """The panel's context: the current step with a plan (``assignment``), the step judging
    now (``current_step``, maybe one without a plan) and every step, oldest first."""
    history = plan_history(client)
    current = history.current(now)
    rows = [
        StepRow(step, step is current.step, history.is_scheduled(step, current))
        for step in history.steps
    ]
    return {"assignment": current.assignment, "current_step": current.step, "plan_steps": rows}


def plan_form_initial(now: datetime) -> dict[str, date]:
    """The form's day to start from: the first of this month, so no closed month changes."""
    month = month_of(now, str(settings.TIME_ZONE))
    return {"starts_on": date(month.year, month.first_month, 1)}
