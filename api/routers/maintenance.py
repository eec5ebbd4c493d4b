"""Maintenance windows: planned work during which failures alert nobody, and their occurrences.

``start_date`` and ``start_time`` are wall-clock values in the site's time zone (for a
client-wide window, in each site's zone): they carry no offset. Occurrences are answered in
UTC, with the zone they are read in and the local times.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from api.auth import caller, scope
from api.errors import ErrorOut, InvalidInput
from api.inputs import Id, InputSchema, LocalTime
from api.paging import paged
from api.patch import Patch
from api.writes import assign, related, save_checked
from incidents import maintenance
from incidents.models import MaintenanceWindow
from incidents.models.maintenance import MAX_DURATION_MINUTES
from sitecare.lib.names import DisplayName
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope

router = Router(tags=["maintenance windows"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
DEFAULT_PERIOD = timedelta(days=30)
MAX_PERIOD = timedelta(days=366)


class WindowIn(InputSchema):
    client: Id
    site: Id | None = Field(
        default=None, description="empty: every site of the client, each at its own local time"
    )
    title: DisplayName = Field(min_length=1, max_length=200)
    description: str = Field(default="", description="public: shown to the client")
    start_date: date = Field(description="the first day")
    start_time: LocalTime = Field(description="wall-clock time in the site's zone, no offset")
    duration_minutes: int = Field(ge=1, le=MAX_DURATION_MINUTES)
    rrule: str = Field(
        default="",
        max_length=500,
        description="RFC 5545 RRULE read on the local clock, e.g. FREQ=WEEKLY;BYDAY=SU; "
        "empty: once",
    )

    @field_validator("start_time")
    @classmethod
    def _wall_clock(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError(_("Give the site's local time without an offset, e.g. 02:00."))
        return value


class WindowOut(Schema):
    id: int
    client: int
    site: int | None
    title: str
    description: str
    start_date: date
    start_time: LocalTime
    duration_minutes: int
    rrule: str
    time_zones: list[str] = Field(description="the zones the window is read in")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_client(obj: MaintenanceWindow) -> int:
        return obj.client_id

    @staticmethod
    def resolve_site(obj: MaintenanceWindow) -> int | None:
        return obj.site_id

    @staticmethod
    def resolve_time_zones(obj: MaintenanceWindow) -> list[str]:
        return maintenance.zones_of(obj)


class OccurrenceOut(Schema):
    start: datetime
    end: datetime
    time_zone: str
    local_start: datetime = Field(description="the start on the site's wall clock")
    local_end: datetime


@router.get("", response=list[WindowOut])
@paged()
def list_windows(
    request: HttpRequest, client: Id | None = None, site: Id | None = None
) -> QuerySet[MaintenanceWindow]:
    """Filter by ``client``, or by ``site`` (its own windows and its client's client-wide ones)."""
    windows = scope(request).visible(MaintenanceWindow).select_related("site")
    if client is not None:
        windows = windows.filter(client_id=client)
    if site is not None:
        clients = Site.objects.filter(pk=site).values("client_id")
        windows = windows.filter(Q(site_id=site) | Q(site__isnull=True, client_id__in=clients))
    return windows


def _model_values(sc: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """Body values as model values: ids become a client and a site the caller may see."""
    values = dict(values)
    if "client" in values:
        values["client"] = related(sc, Client, values["client"], "client")
    if values.get("site") is not None:
        values["site"] = related(sc, Site, values["site"], "site")
    return values


@router.post("", response={201: WindowOut, **ERRORS})
def create_window(request: HttpRequest, payload: WindowIn) -> Status[MaintenanceWindow]:
    sc = scope(request)
    sc.require_edit()
    window = MaintenanceWindow(
        created_by=caller(request), **_model_values(sc, payload.model_dump())
    )
    save_checked(window, non_field="rrule")
    return Status(201, window)


@router.get("/{window_id}", response={200: WindowOut, **ERRORS})
def get_window(request: HttpRequest, window_id: int) -> MaintenanceWindow:
    return scope(request).get(MaintenanceWindow, pk=window_id)


def _update(request: HttpRequest, window_id: int, values: dict[str, Any]) -> MaintenanceWindow:
    sc = scope(request)
    window = sc.get(MaintenanceWindow, pk=window_id)
    sc.require_edit()
    assign(window, _model_values(sc, values))
    save_checked(window, non_field="rrule")
    return window


@router.put("/{window_id}", response={200: WindowOut, **ERRORS})
def replace_window(request: HttpRequest, window_id: int, payload: WindowIn) -> MaintenanceWindow:
    return _update(request, window_id, payload.model_dump())


@router.patch("/{window_id}", response={200: WindowOut, **ERRORS})
def update_window(
    request: HttpRequest, window_id: int, payload: Patch[WindowIn]
) -> MaintenanceWindow:
    return _update(request, window_id, payload)


@router.delete("/{window_id}", response={204: None, **ERRORS})
def delete_window(request: HttpRequest, window_id: int) -> Status[None]:
    sc = scope(request)
    window = sc.get(MaintenanceWindow, pk=window_id)
    sc.require_edit()
    window.delete()
    return Status(204, None)


def _period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The asked period, checked: offsets given, ``to`` after ``from``, at most 366 days."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput.one(name, _("Give a time zone offset, e.g. 2026-03-29T00:00:00Z."))
    start = start or timezone.now()
    end = end or start + DEFAULT_PERIOD
    if end <= start:
        raise InvalidInput.one("to", _("Must be after “from”."))
    if end - start > MAX_PERIOD:
        raise InvalidInput.one("to", _("The period may be at most 366 days long."))
    return start, end


@router.get("/{window_id}/occurrences", response={200: list[OccurrenceOut], **ERRORS})
def window_occurrences(
    request: HttpRequest,
    window_id: int,
    start: datetime | None = Query(None, alias="from"),  # noqa: B008 (ninja's way)
    to: datetime | None = None,
) -> list[maintenance.Occurrence]:
    """The occurrences overlapping ``[from, to)`` (default: the next 30 days), soonest first."""
    window = scope(request).get(MaintenanceWindow.objects.select_related("site"), pk=window_id)
    begins, ends = _period(start, to)
    return maintenance.occurrences(window, begins, ends)
