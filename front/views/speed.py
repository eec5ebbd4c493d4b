"""A speed monitor's page: the latest medians against the budgets, the heaviest resources and
the 90-day trend of each Web Vital (a line per environment)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from front.speed_figures import speed_context
from monitoring.models import CheckKind, Monitor, SpeedMeasurement
from tenancy.scoping import scope_for


@login_required
def speed_page(request: HttpRequest, monitor_id: int) -> HttpResponse:
    """Agency users and the client's own users; another client's monitor (or one of another
    kind) is not found."""
    scope = scope_for(request.user)
    monitor = scope.get(
        Monitor.objects.select_related("site__client"), pk=monitor_id, kind=CheckKind.SPEED
    )
    measurements = scope.visible(SpeedMeasurement).filter(monitor=monitor)
    now = timezone.now()
    context = speed_context(monitor, measurements, now=now, tz=timezone.get_current_timezone())
    return render(request, "front/speed.html", {"monitor": monitor, **context})
