"""The incident list (open first) and one incident with its timeline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.models import Incident, IncidentEvent, IncidentState, Notification
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
    incident = scope.get(Incident.objects.select_related("monitor__site__client"), pk=incident_id)
    context = {
        "incident": incident,
        "events": scope.visible(IncidentEvent).filter(incident=incident).order_by("at", "pk"),
        "notifications": scope.visible(Notification)
        .filter(incident=incident)
        .select_related("channel")
        .order_by("created_at", "pk"),
    }
    return render(request, "front/incident.html", context)
