"""Care plans: the SLA tiers the agency sells (availability target, calendar, response and
resolution targets per priority, credits). The body has the shape config-as-code writes.

Plans are the agency's own: owners change them, engineers read them (403 on a change), and
for client users every route here answers 404, as if nothing existed. A client user reads
their own plan at ``/clients/{id}/plan``.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from decimal import Decimal
from typing import Any

from django.db.models import Count, ProtectedError, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, Router, Status
from ninja.errors import HttpError
from pydantic import ConfigDict, field_validator

from api.auth import scope
from api.errors import ErrorOut
from api.inputs import InputSchema
from api.paging import paged
from api.patch import Patch
from api.writes import assign, save_checked
from sitecare.lib.names import DisplayName
from sitecare.lib.timeutil import known_time_zone
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan, MeasurementWindow, Priority, UnknownTime
from sla.plan_data import (
    TARGET_KINDS,
    PlanData,
    plan_data,
    plan_values,
    target_column,
    term_for_column,
)
from tenancy.scoping import NotPermitted, Scope

router = Router(tags=["care plans"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# The target columns under the body's names, for the model's own error messages.
FIELD_NAMES = {
    column: ".".join(term_for_column(column))
    for column in (target_column(p, kind) for p in Priority.values for kind in TARGET_KINDS)
}

# Listed in the schema; the plan model checks the value, as for the form and config as code.
UNKNOWN_TIME_VALUES: dict[str, Any] = {"enum": UnknownTime.values}

# --- bodies ----------------------------------------------------------------------------------


class TargetsIn(InputSchema):
    response_minutes: int | None = Field(default=None, ge=1, description="calendar minutes")
    resolution_minutes: int | None = Field(default=None, ge=1, description="calendar minutes")


class CreditTierIn(InputSchema):
    """Availability below ``below`` % owes ``percent`` % of the window's fee."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    below: str = Field(description="a percentage, e.g. 99.9 (a number or a string)")
    percent: str = Field(description="a percentage of the fee, e.g. 10")


class PlanIn(InputSchema):
    slug: str = Field(min_length=1, max_length=100)
    name: DisplayName = Field(min_length=1, max_length=200)
    description: str = ""
    availability_target: Decimal = Field(gt=0, le=100, description="percent, e.g. 99.9")
    window: MeasurementWindow = MeasurementWindow.MONTH
    time_zone: str = Field(
        default_factory=lambda: str(CarePlan._meta.get_field("time_zone").default), max_length=64
    )
    business_hours: dict[str, str | None] = Field(
        default_factory=dict,
        description='weekday → "HH:MM-HH:MM" (e.g. {"monday": "08:00-16:00"}); a day left out '
        "(or null) is closed; {} means around the clock",
    )
    holiday_country: str = Field(default="", max_length=8, description="e.g. PL; empty: none")
    holiday_subdivision: str = Field(default="", max_length=16)
    closed_dates: list[str] = Field(default_factory=list, description="YYYY-MM-DD days")
    exclude_maintenance: bool = True
    unknown_time: str = Field(
        default=UnknownTime.EXCLUDED.value,
        description="how availability counts time nobody knew a monitor's state: excluded "
        "(left out), up, or down",
        json_schema_extra=UNKNOWN_TIME_VALUES,
    )
    targets: dict[Priority, TargetsIn] = Field(
        default_factory=dict,
        description="per priority; a priority left out has no targets (in a PATCH: unchanged)",
    )
    support_hours: Decimal = Field(default=Decimal(0), ge=0)
    rpo_minutes: int | None = Field(default=None, ge=1)
    rto_minutes: int | None = Field(default=None, ge=1)
    monthly_fee: Decimal = Field(default=Decimal(0), ge=0)
    currency: str = Field(default_factory=lambda: str(CarePlan._meta.get_field("currency").default))
    credits: list[CreditTierIn] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise ValueError(_("Give a three-letter currency code, e.g. PLN or EUR."))
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_time_zone(value)


class PlanOut(PlanData):
    clients: int  # how many clients have the plan in some step of their plan history


# --- helpers ---------------------------------------------------------------------------------


def agency_scope(request: HttpRequest) -> Scope:
    """The caller's scope, if they are an owner or engineer; 404 for everyone else."""
    sc = scope(request)
    if not sc.is_agency:
        raise Http404("not found")
    return sc


def require_owner(sc: Scope) -> None:
    """Plans and who has which are commercial terms: only the agency's owners change them."""
    if not sc.is_owner:
        raise NotPermitted


def _plans(sc: Scope) -> QuerySet[CarePlan]:
    return sc.visible(CarePlan).annotate(client_count=Count("clients__client", distinct=True))


def _out(plan: CarePlan) -> PlanOut:
    count = getattr(plan, "client_count", None)
    if count is None:
        count = plan.clients.values("client").distinct().count()
    return {**plan_data(plan), "clients": count}


def _save(plan: CarePlan, values: dict[str, Any]) -> PlanOut:
    assign(plan, values)
    save_checked(plan, non_field="slug", names=FIELD_NAMES)
    return _out(plan)


def _values(payload: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    if payload.get("window") is not None:
        payload = {**payload, "window": MeasurementWindow(payload["window"]).value}
    if payload.get("targets") is not None:
        payload = {**payload, "targets": {str(k): v for k, v in payload["targets"].items()}}
    return plan_values(payload, partial=partial)


# --- routes ----------------------------------------------------------------------------------


@router.get("", response={200: list[PlanOut], **ERRORS})
@paged()
def list_plans(request: HttpRequest) -> list[PlanOut]:
    return [_out(plan) for plan in _plans(agency_scope(request))]


@router.post("", response={201: PlanOut, **ERRORS})
def create_plan(request: HttpRequest, payload: PlanIn) -> Status[PlanOut]:
    sc = agency_scope(request)
    require_owner(sc)
    plan = CarePlan(organization=sc.organization())
    return Status(201, _save(plan, _values(payload.model_dump(), partial=False)))


@router.post("/examples", response={201: list[PlanOut], **ERRORS})
def install_examples(request: HttpRequest) -> Status[list[PlanOut]]:
    """Add the example plans (start-up, seasonal shop, enterprise) the agency does not have
    yet (by slug); answer the ones added."""
    sc = agency_scope(request)
    require_owner(sc)
    created = install_example_plans(sc.organization())
    return Status(201, [_out(plan) for plan in created])


@router.get("/{plan_id}", response={200: PlanOut, **ERRORS})
def get_plan(request: HttpRequest, plan_id: int) -> PlanOut:
    sc = agency_scope(request)
    return _out(sc.get(_plans(sc), pk=plan_id))


@router.patch("/{plan_id}", response={200: PlanOut, **ERRORS})
def update_plan(request: HttpRequest, plan_id: int, payload: Patch[PlanIn]) -> PlanOut:
    """Change the fields sent; a priority sent in ``targets`` replaces both its targets."""
    sc = agency_scope(request)
    plan = sc.get(CarePlan, pk=plan_id)
    require_owner(sc)
    return _save(plan, _values(payload, partial=True))


@router.delete("/{plan_id}", response={204: None, 409: ErrorOut, **ERRORS})
def delete_plan(request: HttpRequest, plan_id: int) -> Status[None]:
    """Delete a plan no client has; 409 while clients have it (give them another first)."""
    sc = agency_scope(request)
    plan = sc.get(CarePlan, pk=plan_id)
    require_owner(sc)
    try:
        plan.delete()
    except ProtectedError:
        raise HttpError(409, in_use_message(plan)) from None
    return Status(204, None)


def in_use_message(plan: CarePlan) -> str:
    names = list(
        ClientPlan.objects.filter(plan=plan)
        .order_by("client__name")
        .values_list("client__name", flat=True)
        .distinct()
    )
    return ngettext(
        "The plan %(plan)s is in use by %(count)d client (%(names)s): give it another plan "
        "or none first.",
        "The plan %(plan)s is in use by %(count)d clients (%(names)s): give them another plan "
        "or none first.",
        len(names),
    ) % {"plan": plan.name, "count": len(names), "names": ", ".join(names)}
