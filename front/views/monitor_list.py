"""The monitors list (search, filters, sort, pages as GET parameters) and its bulk actions.

Everyone sees the monitors of their scope; owners and engineers also get the checkboxes and
the actions. An action comes back to the same view of the list (its query string), with a
message saying what was done; a deletion first shows what goes with the monitors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from front.bulk_actions import (
    Action,
    BulkForm,
    NotInScope,
    deletion_summary,
    perform,
    routing_choices,
)
from front.monitor_list import filter_fields, monitor_list, rows
from front.views.common import agency_scope
from tenancy.scoping import scope_for


@login_required
def monitor_list_page(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    listing = monitor_list(scope, request.GET)
    chosen = ["client", "site", "kind", "state", "tag", "paused"]
    if not listing.form["client"].value():
        chosen.remove("site")  # a thousand sites would be no choice: pick the client first
    if not listing.tags:
        chosen.remove("tag")
    context = {
        "listing": listing,
        "rows": rows(listing.monitors),
        "filters": filter_fields(listing.form, chosen),
        "can_edit": scope.can_edit,
        "bulk_tags": listing.tags if scope.can_edit else [],
        "routing_choices": routing_choices(scope) if scope.can_edit else [],
        "sort_key": listing.sorted_by()[0],
        "sort_desc": listing.sorted_by()[1],
    }
    return render(request, "front/monitors.html", context)


def _back(request: HttpRequest) -> str:
    """The list as it was shown: its query string, read as parameters and written again (so
    a posted ``back`` can only ever lead to the list)."""
    params = QueryDict(request.POST.get("back", "").lstrip("?"))
    return reverse("front:monitors") + ("?" + params.urlencode() if params else "")


@login_required
@require_POST
def monitors_bulk(request: HttpRequest) -> HttpResponse:
    """Run one bulk action on the chosen monitors (deletion after its confirmation page)."""
    scope = agency_scope(request)
    form = BulkForm(request.POST, scope)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_back(request))
    data = form.cleaned_data
    try:
        if data["action"] == Action.DELETE and request.POST.get("confirm") != "yes":
            summary = deletion_summary(scope, data["monitor"])
            context = {
                "summary": summary,
                "back": request.POST.get("back", ""),
                "back_url": _back(request),
            }
            return render(request, "front/monitors_delete.html", context)
        outcome = perform(scope, form, request.user)
    except NotInScope:
        messages.error(request, _not_found_text())
        return redirect(_back(request))
    for error in outcome.errors:
        messages.error(request, error)
    if outcome.message:
        messages.success(request, outcome.message)
    return redirect(_back(request))


def _not_found_text() -> str:
    return _("Some of the chosen monitors do not exist (any more): nothing was changed.")
