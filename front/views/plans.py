"""Care plans: the agency's list, one plan's terms, the example plans, a client's plan.

Plans are the agency's commercial terms, so only owners change them (create, edit, delete,
install the examples, assign one to a client); engineers read them; client users get 404 for
every plan page (the scoping helper shows them no plan), and see their own client's plan on
the client's pages. A change posted by someone who may only read is refused with 403.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from front.forms_plans import CarePlanForm, ClientPlanForm
from front.sla_figures import (
    calendar_summary,
    credit_tiers_text,
    duration_text,
    money_text,
    target_text,
)
from front.views.common import agency_scope, posted_id
from sla.examples import example_plans, install_example_plans
from sla.models import CarePlan, ClientPlan
from tenancy.models import Client
from tenancy.scoping import Scope, scope_for


def _require_owner(scope: Scope) -> None:
    if not scope.is_owner:
        raise PermissionDenied


def _plans(scope: Scope) -> list[CarePlan]:
    users = ClientPlan.objects.select_related("client").order_by("client__name")
    return list(scope.visible(CarePlan).prefetch_related(Prefetch("clients", queryset=users)))


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The agency's plans; owners are offered the examples while the agency has few plans."""
    scope = agency_scope(request)
    plans = _plans(scope)
    examples = example_plans()
    have = {plan.slug for plan in plans}
    context = {
        "rows": [
            (
                plan,
                calendar_summary(plan),
                target_text(plan.availability_target),
                money_text(plan.monthly_fee, plan.currency),
            )
            for plan in plans
        ],
        "can_edit": scope.is_owner,
        "offer_examples": scope.is_owner
        and len(plans) < len(examples)
        and any(values["slug"] not in have for values in examples),
    }
    return render(request, "front/plans.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    _require_owner(scope)
    organization = scope.organization()
    form = CarePlanForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        plan = form.save()
        messages.success(request, _("The care plan “%(name)s” is saved.") % {"name": plan.name})
        return redirect("front:plan", plan_id=plan.pk)
    return render(request, "front/plans_new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """One plan's terms and the clients on it; for owners, the form to change it."""
    scope = agency_scope(request)
    plan = scope.get(CarePlan, pk=plan_id)
    form = None
    if request.method == "POST":
        _require_owner(scope)
        form = CarePlanForm(request.POST, instance=plan, organization=plan.organization)
        if form.is_valid():
            form.save()
            messages.success(request, _("The care plan “%(name)s” is saved.") % {"name": plan.name})
            return redirect("front:plan", plan_id=plan.pk)
        plan = scope.get(CarePlan, pk=plan_id)  # as stored, not as refused
    elif scope.is_owner:
        form = CarePlanForm(instance=plan, organization=plan.organization)
    context = {
        "plan": plan,
        "calendar": calendar_summary(plan),
        "target": target_text(plan.availability_target),
        "fee": money_text(plan.monthly_fee, plan.currency),
        "rpo": _minutes_text(plan.rpo_minutes),
        "rto": _minutes_text(plan.rto_minutes),
        "credit_tiers": credit_tiers_text(plan),
        "targets": [(priority, *plan.targets(priority)) for priority in ("P1", "P2", "P3", "P4")],
        "users": plan.clients.select_related("client").order_by("client__name"),
        "form": form,
    }
    return render(request, "front/plans_detail.html", context)


def _minutes_text(minutes: int | None) -> str:
    return duration_text(None if minutes is None else timedelta(minutes=minutes))


@login_required
@require_POST
def plan_delete(request: HttpRequest) -> HttpResponse:
    """Delete a plan no client has; while a client has it, refuse and change nothing."""
    scope = agency_scope(request)
    _require_owner(scope)
    plan = scope.get(CarePlan, pk=posted_id(request, "plan"))
    names = [c.client.name for c in plan.clients.select_related("client").order_by("client__name")]
    if not names:
        try:
            plan.delete()
        except ProtectedError:  # a client was given the plan meanwhile
            names = [_("a client")]
    if names:
        messages.error(
            request,
            _("The care plan “%(name)s” is not deleted: %(clients)s still use it.")
            % {"name": plan.name, "clients": ", ".join(names)},
        )
        return redirect("front:plan", plan_id=plan.pk)
    messages.success(request, _("The care plan “%(name)s” is deleted.") % {"name": plan.name})
    return redirect("front:plans")


@login_required
@require_POST
def plan_examples(request: HttpRequest) -> HttpResponse:
    """Add the example plans the agency does not have yet."""
    scope = agency_scope(request)
    _require_owner(scope)
    created = install_example_plans(scope.organization())
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)d example plan is added: %(names)s.",
                "%(count)d example plans are added: %(names)s.",
                len(created),
            )
            % {"count": len(created), "names": ", ".join(plan.name for plan in created)},
        )
    else:
        messages.warning(request, _("The agency already has every example plan."))
    return redirect("front:plans")


@login_required
@require_http_methods(["GET", "POST"])
def client_plan(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's plan (everyone who sees the client); owners assign, change or remove it."""
    scope = scope_for(request.user)
    client = scope.get(Client, pk=client_id)
    form = None
    if request.method == "POST":
        _require_owner(scope)
        form = ClientPlanForm(request.POST, client=client)
        if form.is_valid():
            assignment = form.save_assignment()
            if assignment is None:
                messages.success(
                    request, _("%(client)s has no care plan now.") % {"client": client}
                )
            else:
                messages.success(
                    request,
                    _("%(client)s has the care plan “%(plan)s”.")
                    % {"client": client, "plan": assignment.plan.name},
                )
            return redirect("front:client", client_id=client.pk)
    elif scope.is_owner:
        form = ClientPlanForm(client=client)
    assignment = ClientPlan.objects.select_related("plan").filter(client=client).first()
    context = {"client": client, "assignment": assignment, "plan_form": form}
    return render(request, "front/plans_client.html", context)
