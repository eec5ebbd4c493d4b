"""The incident list (open first) and one incident with its timeline (its page and actions
are in ``front.views.incident_actions``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from front.views.incident_actions import incident_page
from incidents.models import Incident, IncidentState
from tenancy.scoping import scope_for

PAGE_SIZE = 50


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    incidents = (
        scope.visible(Incident)
        .select_related("monitor__site__client")
        .annotate(
            open_first=Case(
                When(state=IncidentState.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "-opened_at", "-pk")
    )
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "front/incidents.html", {"page": page})


@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    incident = scope.get(
        Incident.objects.select_related("monitor__site__client", "acknowledged_by"), pk=incident_id
    )
    return incident_page(request, scope, incident)
