"""Care plans: the agency's list, one plan's terms, the example plans, a client's plan.

Plans are the agency's commercial terms, so only owners change them (create, edit, delete,
install the examples, assign one to a client); engineers read them; client users get 404 for
every plan page (the scoping helper shows them no plan), and see their own client's plan on
the client's pages. A change posted by someone who may only read is refused with 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from front.forms_plans import CarePlanForm, ClientPlanForm
from front.plan_steps import plan_form_initial, plan_panel
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
    users = ClientPlan.objects.select_related("client").order_by("client__name", "client_id")
    return list(scope.visible(CarePlan).prefetch_related(Prefetch("clients", queryset=users)))


def clients_of(steps: Iterable[ClientPlan]) -> list[Client]:
    """The clients of these steps, once each (a client may have a plan in several steps)."""
    seen: dict[int, Client] = {}
    for step in steps:
        seen.setdefault(step.client_id, step.client)
    return list(seen.values())


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
                clients_of(plan.clients.all()),
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
        "users": clients_of(plan.clients.select_related("client").order_by("client__name")),
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
    steps = plan.clients.select_related("client").order_by("client__name")
    names = [client.name for client in clients_of(steps)]
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
    """The client's plan history (everyone who sees the client); owners add or change a step."""
    now = timezone.now()
    scope = scope_for(request.user)
    client = scope.get(Client, pk=client_id)
    form = None
    if request.method == "POST":
        _require_owner(scope)
        form = ClientPlanForm(request.POST, client=client)
        if form.is_valid():
            step = form.save_step()
            messages.success(request, _step_message(client, step))
            return redirect("front:client", client_id=client.pk)
    elif scope.is_owner:
        form = ClientPlanForm(client=client, initial=plan_form_initial(now))
    context = {"client": client, **plan_panel(client, now=now), "plan_form": form}
    return render(request, "front/plans_client.html", context)


@login_required
@require_POST
def client_plan_step_delete(request: HttpRequest) -> HttpResponse:
    """Delete one step of a client's plan history (owners only; the step's id is posted)."""
    scope = scope_for(request.user)
    step = scope.get(
        ClientPlan.objects.select_related("plan", "client"), pk=posted_id(request, "step")
    )
    _require_owner(scope)
    step.delete()
    messages.success(request, _("The step “%(step)s” is deleted.") % {"step": step_label(step)})
    return redirect("front:client", client_id=step.client_id)


def _step_message(client: Client, step: ClientPlan) -> str:
    if step.plan is None:
        return _("%(client)s has no care plan from %(day)s.") % {
            "client": client,
            "day": _day(step),
        }
    return _("%(client)s has the care plan “%(plan)s” from %(day)s.") % {
        "client": client,
        "plan": step.plan.name,
        "day": _day(step),
    }


def _day(step: ClientPlan) -> str:
    if step.starts_on is None:
        return str(_("the start"))
    return date_format(step.starts_on, "DATE_FORMAT")


def step_label(step: ClientPlan) -> str:
    """A step in a few words: "from 1 Mar 2026: Enterprise"."""
    plan = step.plan.name if step.plan is not None else _("no plan")
    return _("from %(day)s: %(plan)s") % {"day": _day(step), "plan": plan}
