"""Who is on call when: shifts of a schedule worked out from its rotation and overrides.

The functions here are pure over the loaded rows: :func:`timetable` turns a schedule (its
rotations, participants and overrides, prefetched by :func:`with_timetable`) into plain data,
and everything else computes from that. Hand-offs happen at a wall-clock time in the
schedule's zone, so a week that crosses a summer-time change lasts 167 or 169 hours and the
hand-off stays at, say, 09:00 local.

Layers: each rotation is a layer, later layers painted over earlier ones where they cover;
overrides are painted on top of all rotations, in creation order (the latest wins).

For escalation policies: ``on_call_in(schedule_id, at)`` answers "whoever is on call in
schedule X" in one call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet

from incidents.models import OnCallOverride, OnCallSchedule, RotationParticipant
from incidents.models.oncall import AGENCY_ROLES

# How far "on call now" looks each way for the start and end of the current shift; a
# rotation's turn is at most 52 weeks, so every hand-off of a live rotation falls within it.
HORIZON = timedelta(weeks=53)


@dataclass(frozen=True)
class Shift:
    """One person on call from ``start`` (included) to ``end`` (excluded), in UTC."""

    user: User
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Layer:
    """A rotation as plain data: who takes turns, and when turns change hands."""

    people: tuple[User, ...]
    handoff_weekday: int
    handoff_time: time
    length_weeks: int
    starts_on: date


@dataclass(frozen=True)
class Timetable:
    """A schedule as plain data: its zone, its layers (lowest first) and its overrides."""

    zone: ZoneInfo
    layers: tuple[Layer, ...]
    overrides: tuple[Shift, ...]  # in creation order: a later one wins where they overlap


@dataclass(frozen=True)
class OnCall:
    """Who is on call at a moment (None: nobody), since and until when.

    ``since``/``until`` bound the current state: the shift (or the gap) that holds now. None
    means no change within :data:`HORIZON`.
    """

    user: User | None
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True)
class ScheduledShift:
    """One shift of one person in a given schedule (for their calendar)."""

    schedule: OnCallSchedule
    start: datetime
    end: datetime


# --- loading -----------------------------------------------------------------------------------


def with_timetable(schedules: QuerySet[OnCallSchedule]) -> QuerySet[OnCallSchedule]:
    """The schedules with every row :func:`timetable` reads, in a fixed number of queries."""
    members = RotationParticipant.objects.select_related("user__membership")
    overrides = OnCallOverride.objects.select_related("user__membership").order_by(
        "created_at", "pk"
    )
    return schedules.prefetch_related(
        "rotations",
        Prefetch("rotations__members", queryset=members),
        Prefetch("overrides", queryset=overrides),
    )


def _may_be_on_call(user: User, organization_id: int) -> bool:
    """Still an active owner or engineer of this agency (people leave; their rows stay)."""
    membership = getattr(user, "membership", None)
    return (
        user.is_active
        and membership is not None
        and membership.organization_id == organization_id
        and membership.role in AGENCY_ROLES
    )


def timetable(schedule: OnCallSchedule) -> Timetable:
    """The schedule as plain data; people who left the agency are skipped.

    A person who left drops out of the rotation's order, as if an editor had removed them.
    """
    org = schedule.organization_id
    layers = tuple(
        Layer(
            people=tuple(
                m.user
                for m in sorted(rotation.members.all(), key=lambda m: m.position)
                if _may_be_on_call(m.user, org)
            ),
            handoff_weekday=rotation.handoff_weekday,
            handoff_time=rotation.handoff_time,
            length_weeks=rotation.length_weeks,
            starts_on=rotation.starts_on,
        )
        for rotation in sorted(schedule.rotations.all(), key=lambda r: r.pk)
    )
    overrides = tuple(
        Shift(o.user, o.starts_at, o.ends_at)
        for o in sorted(schedule.overrides.all(), key=lambda o: (o.created_at, o.pk))
        if _may_be_on_call(o.user, org)
    )
    return Timetable(zone=ZoneInfo(schedule.time_zone), layers=layers, overrides=overrides)


# --- one rotation --------------------------------------------------------------------------


def _aware(zone: ZoneInfo, local: datetime) -> datetime:
    """A local wall-clock time in UTC (a time skipped by a clock change lands just after it)."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def _first_handoff(layer: Layer) -> datetime:
    """The local hand-off on or before the day the rotation starts: turn 0 begins there."""
    back = (layer.starts_on.weekday() - layer.handoff_weekday) % 7
    return datetime.combine(layer.starts_on - timedelta(days=back), layer.handoff_time)


def _handoff(layer: Layer, zone: ZoneInfo, turn: int) -> datetime:
    """When turn ``turn`` begins: whole weeks of local wall-clock time after turn 0."""
    return _aware(zone, _first_handoff(layer) + timedelta(weeks=turn * layer.length_weeks))


def _covered_from(layer: Layer, zone: ZoneInfo) -> datetime:
    return _aware(zone, datetime.combine(layer.starts_on, layer.handoff_time))


def _turn_at(layer: Layer, zone: ZoneInfo, at: datetime) -> int:
    """The turn under way at ``at`` (at or after turn 0).

    1. Estimate from elapsed UTC time: a turn is its weeks ± an hour, so off by one at most.
    2. Step until ``handoff(turn) <= at < handoff(turn + 1)``.
    """
    turn = max(0, (at - _handoff(layer, zone, 0)) // timedelta(weeks=layer.length_weeks))
    while turn > 0 and _handoff(layer, zone, turn) > at:
        turn -= 1
    while _handoff(layer, zone, turn + 1) <= at:
        turn += 1
    return turn


def _layer_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """The rotation's turns within ``[start, end)``, cut at the window's edges."""
    if not layer.people:
        return []
    begin = max(start, _covered_from(layer, zone))
    if begin >= end:
        return []
    turn = _turn_at(layer, zone, begin)
    result: list[Shift] = []
    while True:
        handoff = _handoff(layer, zone, turn + 1)
        person = layer.people[turn % len(layer.people)]
        result.append(Shift(person, max(begin, _handoff(layer, zone, turn)), min(end, handoff)))
        if handoff >= end:
            return result
        turn += 1


def _layer_on_call(layer: Layer, zone: ZoneInfo, at: datetime) -> User | None:
    if not layer.people or at < _covered_from(layer, zone):
        return None
    return layer.people[_turn_at(layer, zone, at) % len(layer.people)]


# --- the whole schedule --------------------------------------------------------------------


def _paint(shifts: list[Shift], top: Shift) -> list[Shift]:
    """``shifts`` with ``top`` laid over them: whatever it covers is cut away."""
    result: list[Shift] = []
    for shift in shifts:
        if shift.end <= top.start or shift.start >= top.end:
            result.append(shift)
            continue
        if shift.start < top.start:
            result.append(Shift(shift.user, shift.start, top.start))
        if shift.end > top.end:
            result.append(Shift(shift.user, top.end, shift.end))
    result.append(top)
    result.sort(key=lambda s: s.start)
    return result


def _merge(shifts: Sequence[Shift]) -> list[Shift]:
    """Join shifts of the same person that touch: one hand-off is one change of person."""
    result: list[Shift] = []
    for shift in shifts:
        last = result[-1] if result else None
        if last is not None and last.end == shift.start and last.user.pk == shift.user.pk:
            result[-1] = Shift(last.user, last.start, shift.end)
        else:
            result.append(shift)
    return result


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end < start:
        raise ValueError("end must not be before start")


def timetable_shifts(table: Timetable, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call within ``[start, end)``: sorted, never overlapping, merged.

    1. Each layer's turns in the window, lowest layer first, each painted over the last.
    2. Overrides painted on top in creation order, cut at the window's edges.
    3. Touching shifts of the same person joined.
    Stretches nobody covers are simply absent.
    """
    _check_window(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    painted: list[Shift] = []
    for layer in table.layers:
        turns = _layer_shifts(layer, table.zone, start, end)
        if not painted:
            painted = turns  # one layer's turns never overlap: nothing to cut
            continue
        for shift in turns:
            painted = _paint(painted, shift)
    for override in table.overrides:
        cut = Shift(override.user, max(start, override.start), min(end, override.end))
        if cut.start < cut.end:
            painted = _paint(painted, cut)
    return _merge(painted)


def timetable_on_call(table: Timetable, at: datetime) -> User | None:
    """Who is on call at ``at``: the latest override covering it, else the top layer's turn."""
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    for override in reversed(table.overrides):
        if override.start <= at < override.end:
            return override.user
    for layer in reversed(table.layers):
        person = _layer_on_call(layer, table.zone, at)
        if person is not None:
            return person
    return None


def shifts(schedule: OnCallSchedule, start: datetime, end: datetime) -> list[Shift]:
    """The schedule's shifts within ``[start, end)`` (see :func:`timetable_shifts`)."""
    return timetable_shifts(timetable(schedule), start, end)


def on_call_at(schedule: OnCallSchedule, at: datetime) -> User | None:
    """Who is on call in the schedule at ``at``; an override wins over the rotation."""
    return timetable_on_call(timetable(schedule), at)


def on_call_now(schedule: OnCallSchedule, at: datetime) -> OnCall:
    """Who is on call at ``at``, since when and until the next change.

    1. Shifts within :data:`HORIZON` either side of ``at``.
    2. The shift holding ``at`` gives person, start and end; otherwise the gap between the
       previous shift's end and the next one's start.
    3. A bound at the edge of the window is unknown (None).
    """
    low, high = at - HORIZON, at + HORIZON
    table = timetable(schedule)
    since: datetime | None = None
    for shift in timetable_shifts(table, low, high):
        if shift.start <= at < shift.end:
            return OnCall(
                shift.user,
                shift.start if shift.start > low else None,
                shift.end if shift.end < high else None,
            )
        if shift.start > at:
            return OnCall(None, since, shift.start)
        since = shift.end
    return OnCall(None, since, None)


def shifts_of(
    user: User, schedules: Iterable[OnCallSchedule], start: datetime, end: datetime
) -> list[ScheduledShift]:
    """One person's shifts within ``[start, end)`` across schedules, sorted by start."""
    result = [
        ScheduledShift(schedule, shift.start, shift.end)
        for schedule in schedules
        for shift in shifts(schedule, start, end)
        if shift.user.pk == user.pk
    ]
    result.sort(key=lambda s: (s.start, s.schedule.pk))
    return result


def on_call_in(schedule_id: int, at: datetime) -> User | None:
    """Whoever is on call in schedule ``schedule_id`` at ``at`` (None: nobody, or no schedule).

    The one call escalation steps that target a schedule need.
    """
    schedule = with_timetable(OnCallSchedule.objects.filter(pk=schedule_id)).first()
    return None if schedule is None else on_call_at(schedule, at)
