"""A monitor's page: figures, chart, recent results and its state changes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from front import summaries
from incidents.models import Incident
from monitoring.models import CheckResult, Monitor, StateChange
from tenancy.scoping import scope_for

RECENT_RESULTS = 100
RECENT_CHANGES = 50


@login_required
def monitor_detail(request: HttpRequest, monitor_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    monitor = scope.get(Monitor.objects.select_related("site__client"), pk=monitor_id)
    now = timezone.now()
    context = {
        "monitor": monitor,
        "row": summaries.monitor_rows(scope, [monitor], now=now)[0],
        "results": scope.visible(CheckResult)
        .filter(monitor=monitor)
        .order_by("-checked_at")[:RECENT_RESULTS],
        "changes": scope.visible(StateChange)
        .filter(monitor=monitor)
        .order_by("-at", "-pk")[:RECENT_CHANGES],
        "incidents": scope.visible(Incident).filter(monitor=monitor).order_by("-opened_at")[:10],
    }
    return render(request, "front/monitor.html", context)
