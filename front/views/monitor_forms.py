"""Creating and changing monitors of every kind, and testing the settings as typed before
saving them (agency owners and engineers; anyone else gets 404).

The form is generated from the kind's options model (``front.kind_forms``) and validated by
``monitoring.spec.parse_monitor``, as the API and config-as-code are. "Test" runs one check
through the kind's own code under the agency's network policy and saves nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from front.kind_forms import MonitorForm, monitor_form_class
from front.kind_words import kind_help
from front.views.common import agency_scope
from monitoring.checks import KINDS, kind_spec
from monitoring.editing import save_monitor
from monitoring.models import CheckKind, Monitor
from monitoring.pauses import Actor
from monitoring.spec import MODEL_FIELD_FOR_KEY
from monitoring.trial import TrialResult, run_trial
from sitecare.lib.netpolicy import IPNetwork
from sites.models import Site
from tenancy.scoping import Scope

# Model field names → the form's, for errors the model itself raises (a taken name).
FORM_NAMES = {attr: key for key, attr in MODEL_FIELD_FOR_KEY.items()}


def kind_choices() -> list[dict[str, Any]]:
    """Every kind this version knows, with its name and what it watches (for choosers)."""
    return [
        {"value": kind.value, "label": kind.label, "help": kind_help(kind)}
        for kind in CheckKind
        if kind in KINDS
    ]


def agency_allowlist(site: Site) -> tuple[IPNetwork, ...]:
    """The agency's network allowlist; a malformed one admits nothing extra (as the engine)."""
    try:
        return tuple(site.client.organization.allowed_networks())
    except ValueError:
        return ()


def _site(scope: Scope, site_id: Any) -> Site:
    return scope.get(Site.objects.select_related("client__organization"), pk=site_id)


def _kind(value: Any) -> str | None:
    return value if isinstance(value, str) and value in KINDS else None


def _model_errors(form: MonitorForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        name = FORM_NAMES.get(field, field)
        form.add_error(name if name in form.fields else "name", errors)


def _form_page(
    request: HttpRequest, site: Site, kind: str, monitor: Monitor | None, *, test: bool
) -> HttpResponse:
    """Show the form; on POST validate it, then test (nothing saved) or save.

    1. Validate through ``parse_monitor`` with the agency's allowlist; errors on their fields.
    2. Test: run one check with the settings as typed and show the result with the form.
    3. Save: create or change the monitor, then show its page.
    A posted editing button (the step editor's add/move/remove) only shows the form again.
    """
    form = monitor_form_class(kind)(
        request.POST if request.method == "POST" else None, monitor=monitor
    )
    trial: TrialResult | None = None
    if request.method == "POST" and not form.rearranging:
        allowlist = agency_allowlist(site)
        definition = form.parse(allowlist)
        if definition is not None and test:
            trial = run_trial(definition, allowlist)
        elif definition is not None:
            try:
                saved = save_monitor(monitor, site, definition, Actor.web(request.user))
            except ValidationError as exc:
                _model_errors(form, exc)
            else:
                messages.success(
                    request, _("The monitor “%(name)s” is saved.") % {"name": saved.name}
                )
                return redirect("front:monitor", monitor_id=saved.pk)
    if monitor is not None:
        form_url = reverse("front:monitor_edit", args=[monitor.pk])
    else:
        form_url = reverse("front:monitor_new", args=[site.pk]) + "?" + urlencode({"kind": kind})
    context = {
        "form": form,
        "form_url": form_url,
        "site": site,
        "kind": kind,
        "kind_label": CheckKind(kind).label,
        "kind_help": kind_help(kind),
        "monitor": monitor,
        "trial": trial,
        "testable": kind_spec(kind).new_target is None,
        "option_names": form.option_names(),
    }
    return render(request, "front/monitor_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def monitor_new(request: HttpRequest, site_id: int) -> HttpResponse:
    """A new monitor of the kind named in ``?kind=``; without one, the kinds to choose from."""
    scope = agency_scope(request)
    site = _site(scope, site_id)
    kind = _kind(request.GET.get("kind") or request.POST.get("kind"))
    if kind is None:
        context = {"site": site, "kinds": kind_choices()}
        return render(request, "front/monitor_kind.html", context)
    return _form_page(request, site, kind, None, test=False)


@login_required
@require_http_methods(["GET", "POST"])
def monitor_edit(request: HttpRequest, monitor_id: int) -> HttpResponse:
    scope = agency_scope(request)
    monitor = scope.get(Monitor.objects.select_related("site__client__organization"), pk=monitor_id)
    if _kind(monitor.kind) is None:
        raise Http404("not found")  # a kind this version cannot edit
    return _form_page(request, monitor.site, monitor.kind, monitor, test=False)


@login_required
@require_POST
def monitor_test(request: HttpRequest, site_id: int) -> HttpResponse:
    """Run one check with the settings as typed (``kind`` and, when editing, ``monitor``
    posted with the form, whose stored secrets a blank field keeps); nothing is saved."""
    scope = agency_scope(request)
    site = _site(scope, site_id)
    monitor: Monitor | None = None
    if request.POST.get("monitor"):
        monitor = scope.get(Monitor.objects.filter(site=site), pk=request.POST.get("monitor"))
    kind = monitor.kind if monitor is not None else _kind(request.POST.get("kind"))
    if kind is None:
        raise Http404("not found")
    return _form_page(request, site, kind, monitor, test=True)
