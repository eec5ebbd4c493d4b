"""Incidents, read-only: they open and resolve through the monitors' state changes."""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from api.auth import scope
from api.errors import ErrorOut
from api.paging import paged
from api.schemas import IncidentDetailOut, IncidentOut
from incidents.models import Incident, IncidentState

router = Router(tags=["incidents"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response=list[IncidentOut])
@paged()
def list_incidents(
    request: HttpRequest, state: IncidentState | None = None, site: int | None = None
) -> QuerySet[Incident]:
    """Newest first; filter by ``state`` (open, resolved) and ``site``."""
    incidents = scope(request).visible(Incident).select_related("monitor__site")
    if state is not None:
        incidents = incidents.filter(state=state)
    if site is not None:
        incidents = incidents.filter(monitor__site_id=site)
    return incidents


@router.get("/{incident_id}", response={200: IncidentDetailOut, **ERRORS})
def get_incident(request: HttpRequest, incident_id: int) -> Incident:
    """One incident with its timeline."""
    qs = Incident.objects.select_related("monitor__site").prefetch_related("events")
    return scope(request).get(qs, pk=incident_id)
