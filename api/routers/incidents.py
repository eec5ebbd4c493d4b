"""Incidents: they open and resolve through the monitors' state changes; owners and engineers
acknowledge them, resolve them by hand, add notes and fill in their details.

Client users read their own client's incidents (without the agency's internal notes and
escalation lines) and may change nothing (403). Acknowledging an incident that is already
acknowledged or resolved, or resolving one that is resolved, answers 409.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from api.auth import caller, scope
from api.errors import ErrorOut, InvalidInput, from_django
from api.inputs import Id
from api.paging import paged
from api.schemas import (
    IncidentDetailOut,
    IncidentEventOut,
    IncidentFieldsIn,
    IncidentOut,
    NoteIn,
    ResolveIn,
)
from incidents.actions import (
    AckOutcome,
    AckVia,
    acknowledge,
    add_note,
    resolve_manually,
    timeline_for,
    update_details,
)
from incidents.models import Incident, IncidentEvent, IncidentState
from tenancy.scoping import Scope

router = Router(tags=["incidents"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ACTION_ERRORS: dict[int, Any] = {**ERRORS, 403: ErrorOut, 409: ErrorOut}


@router.get("", response=list[IncidentOut])
@paged()
def list_incidents(
    request: HttpRequest, state: IncidentState | None = None, site: Id | None = None
) -> QuerySet[Incident]:
    """Newest first; filter by ``state`` (open, resolved) and ``site``."""
    incidents = scope(request).visible(Incident).select_related("monitor__site", "acknowledged_by")
    if state is not None:
        incidents = incidents.filter(state=state)
    if site is not None:
        incidents = incidents.filter(monitor__site_id=site)
    return incidents


def _incident(sc: Scope, incident_id: int) -> Incident:
    qs = Incident.objects.select_related("monitor__site__client__organization", "acknowledged_by")
    return sc.get(qs, pk=incident_id)


def _detail(sc: Scope, incident: Incident) -> Incident:
    incident.timeline = timeline_for(sc, incident)  # type: ignore[attr-defined]
    return incident


def _editable(request: HttpRequest, incident_id: int) -> tuple[Scope, Incident]:
    """The incident if the caller sees it (else 404) and may act on it (else 403)."""
    sc = scope(request)
    incident = _incident(sc, incident_id)
    sc.require_edit()
    return sc, incident


@router.get("/{incident_id}", response={200: IncidentDetailOut, **ERRORS})
def get_incident(request: HttpRequest, incident_id: int) -> Incident:
    """One incident with its fields and timeline."""
    sc = scope(request)
    return _detail(sc, _incident(sc, incident_id))


@router.patch("/{incident_id}", response={200: IncidentDetailOut, **ACTION_ERRORS})
def update_incident(request: HttpRequest, incident_id: int, payload: IncidentFieldsIn) -> Incident:
    """Change severity, affected monitors, root cause or postmortem (fields left out stay)."""
    sc, incident = _editable(request, incident_id)
    values = payload.model_dump(exclude_unset=True)
    try:
        update_details(incident, caller(request), **values)
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, "severity")) from exc
    return _detail(sc, incident)


@router.post("/{incident_id}/acknowledge", response={200: IncidentDetailOut, **ACTION_ERRORS})
def acknowledge_incident(request: HttpRequest, incident_id: int) -> Incident:
    """Acknowledge: you are on it; the escalation stops paging people."""
    sc, incident = _editable(request, incident_id)
    outcome = acknowledge(incident, caller(request), AckVia.API)
    if outcome != AckOutcome.ACKNOWLEDGED:
        raise HttpError(409, str(outcome.label))
    return _detail(sc, incident)


@router.post("/{incident_id}/resolve", response={200: IncidentDetailOut, **ACTION_ERRORS})
def resolve_incident(request: HttpRequest, incident_id: int, payload: ResolveIn) -> Incident:
    """Resolve by hand, also while the monitor is down (then no new incident opens for this
    outage: the monitor must recover and fail again)."""
    sc, incident = _editable(request, incident_id)
    try:
        resolved = resolve_manually(incident, caller(request), payload.note)
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, "note")) from exc
    if not resolved:
        raise HttpError(409, str(AckOutcome.RESOLVED.label))
    return _detail(sc, incident)


@router.post("/{incident_id}/notes", response={201: IncidentEventOut, **ACTION_ERRORS})
def add_incident_note(
    request: HttpRequest, incident_id: int, payload: NoteIn
) -> Status[IncidentEvent]:
    """An internal note on the timeline (never shown to the client)."""
    _sc, incident = _editable(request, incident_id)
    try:
        event = add_note(incident, caller(request), payload.text)
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, "text")) from exc
    return Status(201, event)
