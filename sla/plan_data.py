"""A care plan's terms as plain data: what the API answers and takes, and what
config-as-code writes and reads (one shape for both; ``sla.serialize`` holds the SLA's).

Decimals are strings (exact): targets and hours as written (``"99.9"``), money with cents.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from sla.models import CarePlan, Priority

_CENTS = Decimal("0.01")


class Targets(TypedDict):
    response_minutes: int | None
    resolution_minutes: int | None


class CreditTier(TypedDict):
    below: str
    percent: str


class PlanTerms(TypedDict):
    slug: str
    name: str
    description: str
    availability_target: str
    window: str
    time_zone: str
    business_hours: dict[str, str]
    holiday_country: str
    holiday_subdivision: str
    closed_dates: list[str]
    exclude_maintenance: bool
    unknown_time: str  # excluded, up or down: how availability counts unknown time
    targets: dict[str, Targets]
    support_hours: str
    rpo_minutes: int | None
    rto_minutes: int | None
    monthly_fee: str
    currency: str
    credits: list[CreditTier]


class PlanData(PlanTerms):
    id: int | None


# Plain model columns under the same name in the API and the file.
PLAIN_TERMS = (
    "slug",
    "name",
    "description",
    "availability_target",
    "window",
    "time_zone",
    "business_hours",
    "holiday_country",
    "holiday_subdivision",
    "closed_dates",
    "exclude_maintenance",
    "unknown_time",
    "support_hours",
    "rpo_minutes",
    "rto_minutes",
    "monthly_fee",
    "currency",
    "credits",
)
TARGET_KINDS = ("response", "resolution")


def target_column(priority: str, kind: str) -> str:
    """``("P1", "response")`` → ``p1_response_minutes``."""
    return f"{priority.lower()}_{kind}_minutes"


def term_for_column(column: str) -> tuple[str, ...]:
    """Where a plan's model column is in the API body or the file: ``p1_response_minutes`` →
    ``("targets", "P1", "response_minutes")``; plain columns keep their name."""
    for priority in Priority.values:
        for kind in TARGET_KINDS:
            if column == target_column(priority, kind):
                return ("targets", priority, f"{kind}_minutes")
    return (column,)


def plain(value: Decimal) -> str:
    """``Decimal("99.900")`` → ``"99.9"``; ``Decimal("100")`` → ``"100"``."""
    return format(value.normalize(), "f")


def money(value: Decimal) -> str:
    return str(value.quantize(_CENTS))


def plan_terms(plan: CarePlan) -> PlanTerms:
    """A plan's terms in the shape the API and config-as-code share (every priority listed)."""
    return {
        "slug": plan.slug,
        "name": plan.name,
        "description": plan.description,
        "availability_target": plain(Decimal(plan.availability_target)),
        "window": str(plan.window),
        "time_zone": plan.time_zone,
        "business_hours": dict(plan.business_hours or {}),
        "holiday_country": plan.holiday_country,
        "holiday_subdivision": plan.holiday_subdivision,
        "closed_dates": [str(day) for day in plan.closed_dates or []],
        "exclude_maintenance": plan.exclude_maintenance,
        "unknown_time": str(plan.unknown_time),
        "targets": {
            priority: {
                "response_minutes": getattr(plan, target_column(priority, "response")),
                "resolution_minutes": getattr(plan, target_column(priority, "resolution")),
            }
            for priority in Priority.values
        },
        "support_hours": plain(Decimal(plan.support_hours)),
        "rpo_minutes": plan.rpo_minutes,
        "rto_minutes": plan.rto_minutes,
        "monthly_fee": money(Decimal(plan.monthly_fee)),
        "currency": plan.currency,
        "credits": [{"below": t["below"], "percent": t["percent"]} for t in plan.credits or []],
    }


def plan_data(plan: CarePlan) -> PlanData:
    return {"id": plan.pk, **plan_terms(plan)}


def plan_values(terms: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Plan terms (API body or file) as model attribute values; unchecked (the model checks).

    ``targets`` maps priorities to their two targets; a priority left out of it has none,
    except when ``partial`` (a PATCH): then only the priorities given change.
    """
    values = {key: terms[key] for key in PLAIN_TERMS if key in terms}
    for key in ("holiday_country", "currency"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip().upper()
    if "targets" not in terms and partial:
        return values
    given: Mapping[str, Any] = terms.get("targets") or {}
    for priority in Priority.values:
        if partial and priority not in given:
            continue
        pair = given.get(priority) or {}
        for kind in TARGET_KINDS:
            values[target_column(priority, kind)] = pair.get(f"{kind}_minutes")
    return values


# --- a client's SLA ----------------------------------------------------------------------------
