"""Pausing, resuming, cloning and deleting a monitor (agency owners and engineers; anyone else
gets 404). Pauses and resumes go through ``monitoring.pauses`` (who and when, on the
timeline, path "web")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.deletion import monitor_deletion
from front.views.common import agency_scope
from monitoring.checks import kind_spec
from monitoring.cloning import clone_monitor
from monitoring.models import Monitor
from monitoring.pauses import Actor, set_enabled
from tenancy.scoping import Scope


def _monitor(scope: Scope, monitor_id: int) -> Monitor:
    return scope.get(Monitor.objects.select_related("site__client"), pk=monitor_id)


def _set_enabled(request: HttpRequest, monitor_id: int, enabled: bool) -> HttpResponse:
    monitor = _monitor(agency_scope(request), monitor_id)
    event = set_enabled(monitor, enabled, Actor.web(request.user))
    if event is None:
        messages.info(request, _("Nothing changed: the monitor already was so."))
    elif enabled:
        messages.success(request, _("The monitor is resumed: its next checks decide its state."))
    else:
        messages.success(request, _("The monitor is paused: it is not checked until resumed."))
    return redirect("front:monitor", monitor_id=monitor.pk)


@login_required
@require_POST
def monitor_pause(request: HttpRequest, monitor_id: int) -> HttpResponse:
    return _set_enabled(request, monitor_id, False)


@login_required
@require_POST
def monitor_resume(request: HttpRequest, monitor_id: int) -> HttpResponse:
    return _set_enabled(request, monitor_id, True)


@login_required
@require_http_methods(["GET", "POST"])
def monitor_clone(request: HttpRequest, monitor_id: int) -> HttpResponse:
    """A copy under a "(copy)" name, paused or checking at once as the user chooses."""
    monitor = _monitor(agency_scope(request), monitor_id)
    if request.method == "POST":
        paused = request.POST.get("start") != "checking"
        copy = clone_monitor(monitor, paused=paused, actor=Actor.web(request.user))
        messages.success(request, _("The copy “%(name)s” is made.") % {"name": copy.name})
        return redirect("front:monitor_edit", monitor_id=copy.pk)
    context = {
        "monitor": monitor,
        "new_token": kind_spec(monitor.kind).new_target is not None,
    }
    return render(request, "front/monitor_clone.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def monitor_delete(request: HttpRequest, monitor_id: int) -> HttpResponse:
    """A page that says what goes with the monitor: its results, incidents, components."""
    monitor = _monitor(agency_scope(request), monitor_id)
    if request.method == "POST":
        with transaction.atomic():
            monitor.delete()
        messages.success(request, _("The monitor “%(name)s” is deleted.") % {"name": monitor.name})
        return redirect("front:site", site_id=monitor.site_id)
    context = {
        "object": monitor,
        "title": _("Delete the monitor “%(name)s”?") % {"name": monitor.name},
        "summary": monitor_deletion(monitor),
        "cancel_url": reverse("front:monitor", args=[monitor.pk]),
    }
    return render(request, "front/confirm_delete.html", context)
