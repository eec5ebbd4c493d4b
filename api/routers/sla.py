"""A client's care plan and SLA: ``/clients/{id}/plan`` and ``/clients/{id}/sla``.

Everyone who sees the client reads both (a client user their own client only; anyone else
gets 404). Only the agency's owners give a client a plan or take it away (403 for others).
The SLA answer has the shape ``sitecare sla --json`` prints (``sla.serialize``).
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from api.auth import scope
from api.errors import ErrorOut, InvalidInput
from api.routers.plans import require_owner
from api.writes import related, save_checked
from sla.models import CarePlan, ClientPlan
from sla.periods import PeriodError
from sla.plan_data import PlanData, money, plan_data
from sla.serialize import MAX_HISTORY_MONTHS, SlaData, client_sla_data, optional_date
from tenancy.models import Client

router = Router(tags=["SLA"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ClientPlanIn(Schema):
    plan: int = Field(description="id of one of the agency's care plans")
    monthly_fee: Decimal | None = Field(
        default=None, ge=0, description="the fee agreed with this client; null: the plan's"
    )
    starts_on: date | None = Field(
        default=None, description="in force from this day; null: every period counts"
    )


class ClientPlanOut(TypedDict):
    client: int
    plan: PlanData | None  # null: the client has no plan
    agreed_monthly_fee: str | None
    monthly_fee: str | None  # the fee in effect: the agreed one, else the plan's
    starts_on: str | None


def _plan_out(client: Client, assignment: ClientPlan | None) -> ClientPlanOut:
    if assignment is None:
        return {
            "client": client.pk,
            "plan": None,
            "agreed_monthly_fee": None,
            "monthly_fee": None,
            "starts_on": None,
        }
    agreed = assignment.monthly_fee
    return {
        "client": client.pk,
        "plan": plan_data(assignment.plan),
        "agreed_monthly_fee": None if agreed is None else money(Decimal(agreed)),
        "monthly_fee": money(Decimal(assignment.fee)),
        "starts_on": optional_date(assignment.starts_on),
    }


def _assignment(client: Client) -> ClientPlan | None:
    return ClientPlan.objects.select_related("plan").filter(client=client).first()


@router.get("/{client_id}/plan", response={200: ClientPlanOut, **ERRORS})
def get_client_plan(request: HttpRequest, client_id: int) -> ClientPlanOut:
    """The client's care plan and agreed fee; ``plan`` is null when it has none."""
    client = scope(request).get(Client, pk=client_id)
    return _plan_out(client, _assignment(client))


@router.put("/{client_id}/plan", response={200: ClientPlanOut, **ERRORS})
def set_client_plan(request: HttpRequest, client_id: int, payload: ClientPlanIn) -> ClientPlanOut:
    """Give the client a plan (replacing the one it had), with an agreed fee and a start."""
    sc = scope(request)
    client = sc.get(Client, pk=client_id)
    require_owner(sc)
    plan = related(sc, CarePlan, payload.plan, "plan")
    assignment = _assignment(client) or ClientPlan(client=client)
    assignment.plan = plan
    assignment.monthly_fee = payload.monthly_fee
    assignment.starts_on = payload.starts_on
    save_checked(assignment, non_field="plan")
    return _plan_out(client, assignment)


@router.delete("/{client_id}/plan", response={204: None, **ERRORS})
def remove_client_plan(request: HttpRequest, client_id: int) -> Status[None]:
    """Take the client's plan away (nothing to do when it has none)."""
    sc = scope(request)
    client = sc.get(Client, pk=client_id)
    require_owner(sc)
    ClientPlan.objects.filter(client=client).delete()
    return Status(204, None)


@router.get("/{client_id}/sla", response={200: SlaData, **ERRORS})
def client_sla(
    request: HttpRequest,
    client_id: int,
    period: str | None = Query(
        None, description="a month (2026-10) or a quarter (2026-Q4); default: this month"
    ),
    history: int = Query(
        0, ge=0, le=MAX_HISTORY_MONTHS, description="also the availability of so many months"
    ),
) -> SlaData:
    """The client's SLA for a period, read in its plan's time zone: availability (up, down,
    unknown and excluded time apart), per site, and for the plan's window (the month or
    quarter holding the period) the error budget, breaches, credit and the outages behind it.
    """
    now = timezone.now()
    client = scope(request).get(Client, pk=client_id)
    try:
        return client_sla_data(client, period, now=now, history=history)
    except PeriodError as exc:
        # The message names the field first ("period: …"); the error names it already.
        text = str(exc)
        raise InvalidInput.one("period", text.partition(": ")[2] or text) from None
