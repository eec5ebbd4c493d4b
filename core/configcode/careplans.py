"""Care plans in config-as-code: how a plan and a client's plan are compared, written, exported.

A plan's terms have the shape the API uses (``sla.serialize.plan_terms``); in a diff its
targets are shown one line each (``targets.P1.response_minutes``). A client's plan is part of
the client in the file (``plan``, ``monthly_fee``, ``plan_starts_on``) and is diffed with it.
A client's plan is a history of steps (``ClientPlan``); the file describes one of them, the
step starting on ``plan_starts_on`` (none: the step since always), created or changed, and
says nothing about the others, which are kept (never pruned by the file). A client without
``plan`` leaves its history alone. Export writes the client's current step.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.configcode.schema import ClientSpec
from sla.models import CarePlan, ClientPlan, MeasurementWindow
from sla.plan_data import money, plan_terms

View = dict[str, Any]


def plan_view(plan: CarePlan) -> View:
    """A plan's terms, flat (one entry a target), without its slug (the match key)."""
    view: View = {}
    terms: dict[str, Any] = dict(plan_terms(plan))
    for key, value in terms.items():
        if key == "slug":
            continue
        if key == "targets":
            for priority, pair in value.items():
                for name, minutes in pair.items():
                    view[f"targets.{priority}.{name}"] = minutes
            continue
        view[key] = value
    return view


def assignment_view(step: ClientPlan | None) -> View:
    """A stored step of a client's plan history as the client's fields in the file."""
    if step is None:
        return {"plan": None, "monthly_fee": None, "plan_starts_on": None}
    fee = step.monthly_fee
    starts = step.starts_on
    return {
        "plan": None if step.plan is None else step.plan.slug,
        "monthly_fee": None if fee is None else money(Decimal(fee)),
        "plan_starts_on": None if starts is None else starts.isoformat(),
    }


def wanted_assignment_view(spec: ClientSpec) -> View:
    """The client's plan fields as the file gives them."""
    return {
        "plan": spec.plan,
        "monthly_fee": None if spec.monthly_fee is None else money(spec.monthly_fee),
        "plan_starts_on": None if spec.plan_starts_on is None else spec.plan_starts_on.isoformat(),
    }


def write_assignment(
    client: Any, stored: ClientPlan | None, plan: CarePlan | None, spec: ClientSpec
) -> None:
    """Make the step the file describes what it says: create it, or change the stored step
    of that day (``stored``); without ``plan`` in the file, nothing is written.

    ``plan`` is the plan the file names.
    """
    if spec.plan is None:
        return
    if plan is None or plan.pk is None:
        raise RuntimeError(f"care plan {spec.plan} is missing outside a dry run")
    values = {"plan_id": plan.pk, "monthly_fee": spec.monthly_fee}
    if stored is None:
        ClientPlan.objects.create(client=client, starts_on=spec.plan_starts_on, **values)
        return
    changed = [name for name, value in values.items() if getattr(stored, name) != value]
    for name in changed:
        setattr(stored, name, values[name])
    if changed:
        stored.save(update_fields=changed)


def _number(text: str) -> int | float:
    """An exact decimal string as a YAML number: ``"99.9"`` → 99.9, ``"490.00"`` → 490."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def export_plan(plan: CarePlan) -> dict[str, Any]:
    """A plan as the file writes it: numbers as numbers, empty and unset terms left out."""
    terms: dict[str, Any] = dict(plan_terms(plan))
    data: dict[str, Any] = {"slug": terms["slug"], "name": terms["name"]}
    if terms["description"]:
        data["description"] = terms["description"]
    data["availability_target"] = _number(terms["availability_target"])
    data["window"] = terms["window"] or MeasurementWindow.MONTH.value
    data["time_zone"] = terms["time_zone"]
    for key in ("business_hours", "holiday_country", "holiday_subdivision", "closed_dates"):
        if terms[key]:
            data[key] = terms[key]
    data["exclude_maintenance"] = terms["exclude_maintenance"]
    data["unknown_time"] = terms["unknown_time"]
    targets = {
        priority: {name: minutes for name, minutes in pair.items() if minutes is not None}
        for priority, pair in terms["targets"].items()
        if any(minutes is not None for minutes in pair.values())
    }
    if targets:
        data["targets"] = targets
    data["support_hours"] = _number(terms["support_hours"])
    for key in ("rpo_minutes", "rto_minutes"):
        if terms[key] is not None:
            data[key] = terms[key]
    data["monthly_fee"] = _number(terms["monthly_fee"])
    data["currency"] = terms["currency"]
    if terms["credits"]:
        data["credits"] = [
            {"below": _number(t["below"]), "percent": _number(t["percent"])}
            for t in terms["credits"]
        ]
    return data


def export_assignment(assignment: ClientPlan | None) -> dict[str, Any]:
    """A client's current step as the file writes it (nothing without a plan now)."""
    if assignment is None or assignment.plan is None:
        return {}
    data: dict[str, Any] = {"plan": assignment.plan.slug}
    if assignment.monthly_fee is not None:
        data["monthly_fee"] = _number(money(Decimal(assignment.monthly_fee)))
    if assignment.starts_on is not None:
        data["plan_starts_on"] = assignment.starts_on
    return data
