"""On-call schedules (their rotation nested) and overrides, and who is on call now.

Schedules are the agency's own: owners and engineers read and write them; for anyone else
every route here answers 404, as if nothing existed. Times are ISO 8601 with an offset; the
rotation's hand-off day and time are local to the schedule's ``time_zone``.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime, field_validator

from api.auth import scope
from api.errors import ErrorOut, FieldError, InvalidInput, from_django
from api.inputs import Id, InputSchema, LocalTime
from api.paging import paged
from api.patch import Patch
from api.writes import assign, related, save_checked
from incidents.models import OnCallOverride, OnCallSchedule, Rotation
from incidents.models.oncall import MAX_ROTATION_WEEKS, agency_people, installation_time_zone
from incidents.oncall import on_call_now, shifts, with_timetable
from incidents.oncall_edit import RotationSpec, save_schedule
from sitecare.lib.names import DisplayName
from sitecare.lib.timeutil import known_time_zone
from tenancy.scoping import Scope

router = Router(tags=["on-call"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
MAX_SHIFTS_WINDOW = timedelta(days=92)

# --- bodies ----------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    username: str


class RotationIn(InputSchema):
    participants: list[Id] = Field(
        min_length=1, description="ids of the agency's owners and engineers, in turn order"
    )
    handoff_weekday: int = Field(default=0, ge=0, le=6, description="0 = Monday … 6 = Sunday")
    handoff_time: LocalTime = Field(default=time(9, 0), description="local time of the hand-off")
    length_weeks: int = Field(default=1, ge=1, le=MAX_ROTATION_WEEKS)
    starts_on: date = Field(description="turns count from the hand-off on or before this day")


class ScheduleIn(InputSchema):
    name: DisplayName = Field(min_length=1, max_length=200)
    time_zone: str = Field(default_factory=installation_time_zone, max_length=64)
    rotation: RotationIn | None = Field(default=None, description="null: overrides only")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_time_zone(value)


class RotationOut(Schema):
    participants: list[PersonOut]
    handoff_weekday: int
    handoff_time: LocalTime
    length_weeks: int
    starts_on: date

    @staticmethod
    def resolve_participants(obj: Rotation) -> list[User]:
        return [m.user for m in obj.members.all()]


class ScheduleOut(Schema):
    id: int
    name: str
    time_zone: str
    rotation: RotationOut | None
    created_at: datetime

    @staticmethod
    def resolve_rotation(obj: OnCallSchedule) -> Rotation | None:
        return next(iter(obj.rotations.all()), None)


class OverrideIn(InputSchema):
    schedule: Id = Field(description="id of the schedule")
    user: Id = Field(description="id of the owner or engineer who covers")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(default="", max_length=200)


class OverrideOut(Schema):
    id: int
    schedule: int
    user: PersonOut
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_schedule(obj: OnCallOverride) -> int:
        return obj.schedule_id


class OnCallNowOut(Schema):
    schedule: int
    at: datetime
    user: PersonOut | None = Field(description="null: nobody is on call")
    since: datetime | None = Field(description="null: not within a year")
    until: datetime | None = Field(description="the next hand-off; null: none within a year")


class ShiftOut(Schema):
    user: PersonOut
    start: datetime
    end: datetime


# --- helpers ---------------------------------------------------------------------------------


def _agency(request: HttpRequest) -> Scope:
    """The caller's scope, if they are an owner or engineer; 404 for everyone else."""
    sc = scope(request)
    if not sc.is_agency:
        raise Http404("not found")
    return sc


def _schedule(sc: Scope, schedule_id: int) -> OnCallSchedule:
    return sc.get(with_timetable(sc.visible(OnCallSchedule)), pk=schedule_id)


def _spec(rotation: dict[str, Any] | None) -> RotationSpec | None:
    return None if rotation is None else RotationSpec(**rotation)


def _save(schedule: OnCallSchedule, values: dict[str, Any], spec: RotationSpec | None) -> None:
    assign(schedule, {k: v for k, v in values.items() if k != "rotation"})
    try:
        save_schedule(schedule, spec)
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, non_field="name")) from exc


def _reloaded(schedule: OnCallSchedule) -> OnCallSchedule:
    return with_timetable(OnCallSchedule.objects.filter(pk=schedule.pk)).get()


def _person(sc: Scope, user_id: int) -> User:
    """The covering person, if an owner or engineer of the agency; else a 422 on ``user``."""
    person = agency_people(sc.organization().pk).filter(pk=user_id).first()
    if person is None:
        message = _("No owner or engineer of the agency has the id %(id)s.") % {"id": user_id}
        raise InvalidInput.one("user", message)
    return person


# --- schedules -------------------------------------------------------------------------------


@router.get("/schedules", response={200: list[ScheduleOut], **ERRORS})
@paged()
def list_schedules(request: HttpRequest) -> QuerySet[OnCallSchedule]:
    return with_timetable(_agency(request).visible(OnCallSchedule))


@router.post("/schedules", response={201: ScheduleOut, **ERRORS})
def create_schedule(request: HttpRequest, payload: ScheduleIn) -> Status[OnCallSchedule]:
    sc = _agency(request)
    schedule = OnCallSchedule(organization=sc.organization())
    values = payload.model_dump()
    _save(schedule, values, _spec(values["rotation"]))
    return Status(201, _reloaded(schedule))


@router.get("/schedules/{schedule_id}", response={200: ScheduleOut, **ERRORS})
def get_schedule(request: HttpRequest, schedule_id: int) -> OnCallSchedule:
    return _schedule(_agency(request), schedule_id)


@router.put("/schedules/{schedule_id}", response={200: ScheduleOut, **ERRORS})
def replace_schedule(request: HttpRequest, schedule_id: int, payload: ScheduleIn) -> OnCallSchedule:
    """Replace the schedule: a missing ``rotation`` removes it."""
    schedule = _schedule(_agency(request), schedule_id)
    values = payload.model_dump()
    _save(schedule, values, _spec(values["rotation"]))
    return _reloaded(schedule)


@router.patch("/schedules/{schedule_id}", response={200: ScheduleOut, **ERRORS})
def update_schedule(
    request: HttpRequest, schedule_id: int, payload: Patch[ScheduleIn]
) -> OnCallSchedule:
    """Change some fields; a ``rotation`` sent is replaced whole, ``null`` removes it."""
    schedule = _schedule(_agency(request), schedule_id)
    if "rotation" in payload:
        # Patch leaves the nested rotation's unsent fields out: give them their defaults.
        sent = payload["rotation"]
        spec = _spec(None if sent is None else RotationIn(**sent).model_dump())
    else:
        current = ScheduleOut.resolve_rotation(schedule)
        spec = None if current is None else _spec(_rotation_values(current))
    _save(schedule, payload, spec)
    return _reloaded(schedule)


def _rotation_values(rotation: Rotation) -> dict[str, Any]:
    return {
        "participants": [m.user_id for m in rotation.members.all()],
        "handoff_weekday": rotation.handoff_weekday,
        "handoff_time": rotation.handoff_time,
        "length_weeks": rotation.length_weeks,
        "starts_on": rotation.starts_on,
    }


@router.delete("/schedules/{schedule_id}", response={204: None, **ERRORS})
def delete_schedule(request: HttpRequest, schedule_id: int) -> Status[None]:
    """Delete a schedule with its rotation and overrides."""
    _schedule(_agency(request), schedule_id).delete()
    return Status(204, None)


@router.get("/schedules/{schedule_id}/now", response={200: OnCallNowOut, **ERRORS})
def who_is_on_call(
    request: HttpRequest, schedule_id: int, at: AwareDatetime | None = None
) -> OnCallNowOut:
    """Who is on call now (or ``at``), since when and until the next hand-off."""
    schedule = _schedule(_agency(request), schedule_id)
    moment = at or timezone.now()
    now = on_call_now(schedule, moment)
    person = None if now.user is None else PersonOut.model_validate(now.user)
    return OnCallNowOut(
        schedule=schedule.pk, at=moment, user=person, since=now.since, until=now.until
    )


@router.get("/schedules/{schedule_id}/shifts", response={200: list[ShiftOut], **ERRORS})
def list_shifts(
    request: HttpRequest,
    schedule_id: int,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> list[ShiftOut]:
    """Shifts between ``start`` (default now) and ``end`` (default 14 days on; at most 92)."""
    schedule = _schedule(_agency(request), schedule_id)
    low = start or timezone.now()
    high = end or low + timedelta(days=14)
    if high < low:
        raise InvalidInput.one("end", _("The end must not be before the start."))
    if high - low > MAX_SHIFTS_WINDOW:
        raise InvalidInput.one("end", _("Ask for at most 92 days at a time."))
    return [
        ShiftOut(user=PersonOut.model_validate(s.user), start=s.start, end=s.end)
        for s in shifts(schedule, low, high)
    ]


# --- overrides -------------------------------------------------------------------------------


@router.get("/overrides", response={200: list[OverrideOut], **ERRORS})
@paged()
def list_overrides(
    request: HttpRequest, schedule: Id | None = None, ending_after: AwareDatetime | None = None
) -> QuerySet[OnCallOverride]:
    """Overrides, earliest first; filter by ``schedule`` and by ``ending_after`` a moment."""
    overrides = _agency(request).visible(OnCallOverride).select_related("user")
    if schedule is not None:
        overrides = overrides.filter(schedule_id=schedule)
    if ending_after is not None:
        overrides = overrides.filter(ends_at__gt=ending_after)
    return overrides


def _store_override(sc: Scope, override: OnCallOverride, values: dict[str, Any]) -> None:
    """Check what the body points at (a visible schedule, an agency person), then save."""
    values = dict(values)
    errors: list[FieldError] = []
    if "schedule" in values:
        try:
            values["schedule"] = related(sc, OnCallSchedule, values["schedule"], "schedule")
        except InvalidInput as exc:
            errors.extend(exc.errors)
            values.pop("schedule")
    if "user" in values:
        try:
            values["user"] = _person(sc, values["user"])
        except InvalidInput as exc:
            errors.extend(exc.errors)
            values.pop("user")
    if errors:
        raise InvalidInput(errors)
    assign(override, values)
    save_checked(override, non_field="ends_at")
    override.refresh_from_db()  # answer with the times as stored (UTC), not as sent


@router.post("/overrides", response={201: OverrideOut, **ERRORS})
def create_override(request: HttpRequest, payload: OverrideIn) -> Status[OnCallOverride]:
    sc = _agency(request)
    override = OnCallOverride()
    _store_override(sc, override, payload.model_dump())
    return Status(201, override)


def _override(request: HttpRequest, override_id: int) -> tuple[Scope, OnCallOverride]:
    sc = _agency(request)
    return sc, sc.get(OnCallOverride.objects.select_related("schedule", "user"), pk=override_id)


@router.get("/overrides/{override_id}", response={200: OverrideOut, **ERRORS})
def get_override(request: HttpRequest, override_id: int) -> OnCallOverride:
    return _override(request, override_id)[1]


@router.put("/overrides/{override_id}", response={200: OverrideOut, **ERRORS})
def replace_override(request: HttpRequest, override_id: int, payload: OverrideIn) -> OnCallOverride:
    sc, override = _override(request, override_id)
    _store_override(sc, override, payload.model_dump())
    return override


@router.patch("/overrides/{override_id}", response={200: OverrideOut, **ERRORS})
def update_override(
    request: HttpRequest, override_id: int, payload: Patch[OverrideIn]
) -> OnCallOverride:
    sc, override = _override(request, override_id)
    _store_override(sc, override, payload)
    return override


@router.delete("/overrides/{override_id}", response={204: None, **ERRORS})
def delete_override(request: HttpRequest, override_id: int) -> Status[None]:
    _override(request, override_id)[1].delete()
    return Status(204, None)
