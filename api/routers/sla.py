"""A client's care plan history and SLA: ``/clients/{id}/plan`` and ``/clients/{id}/sla``.

Everyone who sees the client reads both (a client user their own client only; anyone else
gets 404). Only the agency's owners change a client's plan history (403 for others). A
client's plan is a history of steps (``sla.plan_history``): ``PUT`` writes the step with the
given ``starts_on``, ``DELETE`` removes one, so past windows keep the plan they had.
The SLA answer has the shape ``sitecare sla --json`` prints (``sla.serialize``).
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Status
from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from api.auth import scope
from api.errors import ErrorOut, InvalidInput
from api.inputs import Id, InputSchema
from api.routers.plans import require_owner
from api.writes import related, save_checked
from sla.models import CarePlan, ClientPlan
from sla.periods import PeriodError
from sla.plan_data import PlanData, money, plan_data
from sla.plan_history import PlanHistory, plan_history
from sla.serialize import MAX_HISTORY_MONTHS, SlaData, client_sla_data, optional_date
from tenancy.models import Client

router = Router(tags=["SLA"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ClientPlanIn(InputSchema):
    plan: Id | None = Field(
        description="id of one of the agency's care plans; null: no plan from this day"
    )
    monthly_fee: Decimal | None = Field(
        default=None, ge=0, description="the fee agreed with this client; null: the plan's"
    )
    starts_on: date | None = Field(
        default=None,
        description="the step's first day; null: the step since always. A step dated inside a "
        "window judges all of it",
    )


class PlanSummary(TypedDict):
    id: int
    slug: str
    name: str


class PlanStepOut(TypedDict):
    plan: PlanSummary | None  # null: no plan from this day
    agreed_monthly_fee: str | None
    monthly_fee: str | None  # the fee in effect: the agreed one, else the plan's
    starts_on: str | None  # null: since always
    current: bool  # the step judging the current window
    scheduled: bool  # dated after the current step


class ClientPlanOut(TypedDict):
    client: int
    plan: PlanData | None  # the current step's plan; null: no plan now
    agreed_monthly_fee: str | None
    monthly_fee: str | None  # the fee in effect: the agreed one, else the plan's
    starts_on: str | None  # the current step's first day
    history: list[PlanStepOut]  # every step, oldest first


def _fees(step: ClientPlan | None) -> tuple[str | None, str | None]:
    if step is None:
        return None, None
    agreed, fee = step.monthly_fee, step.fee
    return (
        None if agreed is None else money(Decimal(agreed)),
        None if fee is None else money(Decimal(fee)),
    )


def _plan_out(client: Client, history: PlanHistory, now: datetime) -> ClientPlanOut:
    current = history.current(now)
    step = current.step
    agreed, fee = _fees(step)
    steps: list[PlanStepOut] = []
    for each in history.steps:
        each_agreed, each_fee = _fees(each)
        plan = each.plan
        steps.append(
            {
                "plan": None
                if plan is None
                else {"id": plan.pk, "slug": plan.slug, "name": plan.name},
                "agreed_monthly_fee": each_agreed,
                "monthly_fee": each_fee,
                "starts_on": optional_date(each.starts_on),
                "current": each is step,
                "scheduled": history.is_scheduled(each, current),
            }
        )
    return {
        "client": client.pk,
        "plan": None if current.plan is None else plan_data(current.plan),
        "agreed_monthly_fee": agreed,
        "monthly_fee": fee,
        "starts_on": None if step is None else optional_date(step.starts_on),
        "history": steps,
    }


@router.get("/{client_id}/plan", response={200: ClientPlanOut, **ERRORS})
def get_client_plan(request: HttpRequest, client_id: int) -> ClientPlanOut:
    """The client's current step (plan, agreed fee, first day; ``plan`` null when it has
    none now) and its whole plan history, oldest first, scheduled steps marked."""
    now = timezone.now()
    client = scope(request).get(Client, pk=client_id)
    return _plan_out(client, plan_history(client), now)


@router.put("/{client_id}/plan", response={200: ClientPlanOut, **ERRORS})
def set_client_plan(request: HttpRequest, client_id: int, payload: ClientPlanIn) -> ClientPlanOut:
    """Write the step with this ``starts_on`` (created, or changed when the client has one
    that day): from that day the client has ``plan`` (null: none) at ``monthly_fee``."""
    now = timezone.now()
    sc = scope(request)
    client = sc.get(Client, pk=client_id)
    require_owner(sc)
    plan = None if payload.plan is None else related(sc, CarePlan, payload.plan, "plan")
    step = ClientPlan.objects.filter(client=client, starts_on=payload.starts_on).first()
    step = step or ClientPlan(client=client, starts_on=payload.starts_on)
    step.plan = plan
    step.monthly_fee = payload.monthly_fee
    save_checked(step, non_field="starts_on")
    return _plan_out(client, plan_history(client), now)


_STEP_DAY = Query(None, description="the step's first day; omitted: the step since always")


@router.delete("/{client_id}/plan", response={204: None, **ERRORS})
def remove_client_plan(
    request: HttpRequest,
    client_id: int,
    starts_on: date | None = _STEP_DAY,
) -> Status[None]:
    """Delete one step of the client's plan history (nothing to do when there is none)."""
    sc = scope(request)
    client = sc.get(Client, pk=client_id)
    require_owner(sc)
    ClientPlan.objects.filter(client=client, starts_on=starts_on).delete()
    return Status(204, None)


@router.get("/{client_id}/sla", response={200: SlaData, **ERRORS})
def client_sla(
    request: HttpRequest,
    client_id: int,
    period: str | None = Query(
        None,
        description="a month (2026-10) or a quarter (2026-Q4) that has begun; default: this month",
    ),
    history: int = Query(
        0,
        ge=0,
        le=MAX_HISTORY_MONTHS,
        description="also the availability of up to so many months, from the first month the "
        "client was watched",
    ),
) -> SlaData:
    """The client's SLA for a period, read in its plan's time zone: availability (up, down,
    unknown and excluded time apart), per site, and for the plan's window (the month or
    quarter holding the period) the error budget, breaches, credit and the outages behind it;
    a quarter of a plan measured by the month gets each month's instead (``months``).
    """
    now = timezone.now()
    client = scope(request).get(Client, pk=client_id)
    try:
        return client_sla_data(client, period, now=now, history=history)
    except PeriodError as exc:
        # The message names the field first ("period: …"); the error names it already.
        text = str(exc)
        raise InvalidInput.one("period", text.partition(": ")[2] or text) from None
