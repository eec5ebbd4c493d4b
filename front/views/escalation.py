"""Escalation policies: the list (with where each applies), creating, editing and deleting one.

Policies are the agency's own business: owners and engineers see and edit them, client users
get 404 for every page. A policy is edited as a whole — its fields, its steps (a formset, one
form a step) and the clients and sites it is chosen for — and saved by
``incidents.escalation_edit.save_policy``, which names the field of every refusal.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from front.views.common import agency_scope
from incidents.escalation_edit import PolicySpec, StepSpec, policy_spec, save_policy, step_channels
from incidents.models import EscalationPolicy, OnCallSchedule
from incidents.models.escalation import MAX_REPEAT, MAX_STEPS, MAX_WAIT_MINUTES
from incidents.models.oncall import agency_people
from sitecare.lib.names import validate_name
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope

Choices = list[tuple[int, str]]


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values]


class PolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, validators=[validate_name])
    is_default = forms.BooleanField(
        label=gettext_lazy("The agency's default policy"),
        required=False,
        help_text=gettext_lazy(
            "Used for every site whose site or client has no policy of its own."
        ),
    )
    repeat = forms.IntegerField(
        label=gettext_lazy("Repeat"),
        min_value=0,
        max_value=MAX_REPEAT,
        initial=0,
        help_text=gettext_lazy(
            "How many more times to go through all steps when nobody acknowledges."
        ),
    )
    clients = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Clients"), coerce=int, required=False
    )
    sites = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Sites"),
        coerce=int,
        required=False,
        help_text=gettext_lazy("A site's policy wins over its client's."),
    )

    def __init__(self, *args: Any, clients: Choices, sites: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clients"].choices = clients  # type: ignore[attr-defined]
        self.fields["sites"].choices = sites  # type: ignore[attr-defined]


class StepForm(forms.Form):
    wait_minutes = forms.IntegerField(
        label=gettext_lazy("Wait (minutes)"),
        min_value=1,
        max_value=MAX_WAIT_MINUTES,
        initial=15,
        help_text=gettext_lazy("For an acknowledgement before the next step."),
    )
    channels = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Channels"), coerce=int, required=False
    )
    users = forms.TypedMultipleChoiceField(
        label=gettext_lazy("People"),
        coerce=int,
        required=False,
        help_text=gettext_lazy("Paged on their personal channels (set on their profile)."),
    )
    schedules = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Whoever is on call in"), coerce=int, required=False
    )

    def __init__(self, *args: Any, targets: dict[str, Choices], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in targets.items():
            self.fields[name].choices = choices  # type: ignore[attr-defined]


StepFormSet = forms.formset_factory(
    StepForm, extra=1, can_delete=True, max_num=MAX_STEPS, validate_max=True
)


def _targets(organization_id: int) -> dict[str, Choices]:
    return {
        "channels": [(c.pk, c.name) for c in step_channels(organization_id).order_by("name")],
        "users": [(u.pk, u.get_username()) for u in agency_people(organization_id)],
        "schedules": [
            (s.pk, s.name) for s in OnCallSchedule.objects.filter(organization_id=organization_id)
        ],
    }


def _places(organization_id: int) -> dict[str, Choices]:
    sites = Site.objects.filter(client__organization_id=organization_id).select_related("client")
    return {
        "clients": [(c.pk, c.name) for c in Client.objects.filter(organization_id=organization_id)],
        "sites": [(s.pk, f"{s.client.name}: {s.name}") for s in sites.order_by("client__name")],
    }


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    policies = (
        scope.visible(EscalationPolicy)
        .prefetch_related(
            "steps", "assignments__client", "assignments__site", "assignments__monitor"
        )
        .order_by("-is_default", "name")
    )
    return render(request, "front/escalation_list.html", {"policies": policies})


def _spec(form: PolicyForm, steps: Any) -> tuple[PolicySpec, list[int]]:
    """The spec the forms describe, and for each of its steps the formset form it came from."""
    # An untouched extra form has no cleaned data: it is not a step.
    kept = [
        (index, f.cleaned_data)
        for index, f in enumerate(steps.forms)
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]
    data = form.cleaned_data
    spec = PolicySpec(
        name=data["name"],
        is_default=data["is_default"],
        repeat=data["repeat"],
        steps=[
            StepSpec(
                wait_minutes=d["wait_minutes"],
                channels=d["channels"],
                users=d["users"],
                schedules=d["schedules"],
            )
            for _i, d in kept
        ],
        clients=data["clients"],
        sites=data["sites"],
    )
    return spec, [index for index, _d in kept]


def _show_refusal(form: PolicyForm, steps: Any, forms_of: list[int], exc: ValidationError) -> None:
    """Put the domain's refusals on the fields they name (``steps.1.users`` is step 2's)."""
    for key, found in exc.message_dict.items():
        parts = key.split(".")
        if parts[0] == "steps" and len(parts) == 3:
            step_form = steps.forms[forms_of[int(parts[1])]]
            step_form.add_error(parts[2] if parts[2] in step_form.fields else None, found)
        elif parts[0] == "steps":
            form.add_error(None, found)
        else:
            form.add_error(key if key in form.fields else None, found)


def _form_page(request: HttpRequest, scope: Scope, policy: EscalationPolicy) -> HttpResponse:
    """Show or take the policy form; on success save through the domain and go to the list."""
    organization_id = policy.organization_id
    targets, places = _targets(organization_id), _places(organization_id)
    if request.method != "POST":
        spec = policy_spec(policy) if policy.pk else PolicySpec(name="")
        initial = asdict(spec)
        form = PolicyForm(initial=initial, **places)
        steps = StepFormSet(initial=initial["steps"], form_kwargs={"targets": targets})
        return render(request, "front/escalation_form.html", _context(policy, form, steps))
    form = PolicyForm(request.POST, **places)
    steps = StepFormSet(request.POST, form_kwargs={"targets": targets})
    if form.is_valid() and steps.is_valid():
        spec, forms_of = _spec(form, steps)
        try:
            save_policy(policy, spec)
        except ValidationError as exc:
            _show_refusal(form, steps, forms_of, exc)
        else:
            messages.success(request, _("The policy “%(name)s” is saved.") % {"name": policy.name})
            return redirect("front:escalation")
    return render(request, "front/escalation_form.html", _context(policy, form, steps))


def _context(policy: EscalationPolicy, form: PolicyForm, steps: Any) -> dict[str, Any]:
    return {"policy": policy, "form": form, "steps": steps}


@login_required
def policy_new(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    return _form_page(request, scope, EscalationPolicy(organization=scope.organization()))


@login_required
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    scope = agency_scope(request)
    return _form_page(request, scope, scope.get(EscalationPolicy, pk=policy_id))


@login_required
@require_POST
def policy_delete(request: HttpRequest) -> HttpResponse:
    """Delete a policy; incidents already escalating with it keep their copy of its steps."""
    scope = agency_scope(request)
    try:
        policy_id = int(request.POST.get("policy", ""))
    except ValueError:
        raise Http404("not found") from None
    policy = scope.get(EscalationPolicy, pk=policy_id)
    policy.delete()
    messages.success(request, _("The policy “%(name)s” is deleted.") % {"name": policy.name})
    return redirect("front:escalation")
