"""Writing on-call schedules: one validated path for the web UI and the API alike.

A schedule and its rotation are checked as a whole and written in one transaction, so a
refused edit leaves nothing half-written. Errors come back as one ``ValidationError`` keyed by
field, the rotation's fields as ``rotation.<field>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from incidents.models import OnCallSchedule, Rotation, RotationParticipant
from incidents.models.oncall import agency_people

ROTATION = "rotation."


@dataclass(frozen=True)
class RotationSpec:
    """What an editor sets on a rotation; ``participants`` are user ids in turn order."""

    participants: Sequence[int]
    handoff_weekday: int
    handoff_time: time
    length_weeks: int
    starts_on: date


def rotation_spec(schedule: OnCallSchedule) -> RotationSpec | None:
    """The schedule's rotation as an editor would send it back (None: it has none)."""
    rotation = schedule.rotations.first()
    if rotation is None:
        return None
    return RotationSpec(
        participants=list(rotation.members.order_by("position").values_list("user_id", flat=True)),
        handoff_weekday=rotation.handoff_weekday,
        handoff_time=rotation.handoff_time,
        length_weeks=rotation.length_weeks,
        starts_on=rotation.starts_on,
    )


def _participant_errors(organization_id: int, ids: Sequence[int]) -> list[str]:
    """Each person must be an active owner or engineer of the agency, and listed once."""
    if not ids:
        return [_("Name at least one person.")]
    allowed = set(agency_people(organization_id).values_list("pk", flat=True))
    errors: list[str] = []
    seen: set[int] = set()
    for person in ids:
        if person not in allowed:
            # The same words for absent and foreign ids: nothing is learnt about other agencies.
            message = _("No owner or engineer of the agency has the id %(id)s.")
            errors.append(message % {"id": person})
        elif person in seen:
            errors.append(_("The person %(id)s is listed twice.") % {"id": person})
        seen.add(person)
    return errors


def _rotation_for(schedule: OnCallSchedule, spec: RotationSpec) -> Rotation:
    rotation = (schedule.rotations.first() if schedule.pk else None) or Rotation()
    rotation.handoff_weekday = spec.handoff_weekday
    rotation.handoff_time = spec.handoff_time
    rotation.length_weeks = spec.length_weeks
    rotation.starts_on = spec.starts_on
    return rotation


def _errors(
    schedule: OnCallSchedule, rotation: Rotation | None, spec: RotationSpec | None
) -> dict[str, list[str]]:
    """Every reason to refuse the edit, keyed by field."""
    errors: dict[str, list[str]] = {}
    try:
        schedule.full_clean()  # constraints included: the name is unique within the agency
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault("name" if field == NON_FIELD_ERRORS else field, []).extend(messages)
    if rotation is not None and spec is not None:
        try:
            rotation.full_clean(exclude=["schedule"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(ROTATION + field, []).extend(messages)
        people = _participant_errors(schedule.organization_id, spec.participants)
        if people:
            errors[ROTATION + "participants"] = people
    return errors


def save_schedule(schedule: OnCallSchedule, spec: RotationSpec | None) -> None:
    """Validate the schedule with its rotation as a whole, then write both, or nothing.

    1. The schedule's rules: a name free within the agency, a real time zone.
    2. The rotation's rules (hand-off day, weeks per turn, start date) and its people: active
       owners or engineers of the agency, each listed once.
    3. Any error: raise them all together, having written nothing.
    4. In one transaction: save the schedule, then its one rotation and its order of people
       (``spec`` None removes the rotation).
    """
    rotation = _rotation_for(schedule, spec) if spec is not None else None
    errors = _errors(schedule, rotation, spec)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            _write(schedule, rotation, spec)
    except IntegrityError:
        taken = OnCallSchedule.objects.filter(
            organization_id=schedule.organization_id, name=schedule.name
        ).exclude(pk=schedule.pk)
        if not taken.exists():
            raise
        # Another request took the name between the check and the write.
        raise ValidationError({"name": [_("A schedule with this name exists.")]}) from None


def _write(schedule: OnCallSchedule, rotation: Rotation | None, spec: RotationSpec | None) -> None:
    schedule.save()
    if rotation is None or spec is None:
        schedule.rotations.all().delete()
        return
    rotation.schedule = schedule
    rotation.save()
    rotation.members.all().delete()
    RotationParticipant.objects.bulk_create(
        RotationParticipant(rotation=rotation, user_id=person, position=position)
        for position, person in enumerate(spec.participants)
    )
