"""On-call logic: rotations, hand-offs across clock changes, overrides, and the rules of edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_user
from incidents.models import (
    OnCallOverride,
    OnCallSchedule,
    Rotation,
    RotationParticipant,
    Weekday,
)
from incidents.oncall import (
    Layer,
    Shift,
    Timetable,
    on_call_at,
    on_call_in,
    on_call_now,
    shifts,
    shifts_of,
    timetable_on_call,
    timetable_shifts,
    with_timetable,
)
from incidents.oncall_edit import RotationSpec, rotation_spec, save_schedule
from tenancy.models import Organization, Role

WARSAW = ZoneInfo("Europe/Warsaw")
HOUR = timedelta(hours=1)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0):
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def make_schedule(
    world,
    people,
    *,
    starts_on: date = date(2026, 3, 2),
    weekday: int = Weekday.MONDAY,
    at: time = time(9, 0),
    weeks: int = 1,
    zone: str = "Europe/Warsaw",
    name: str = "Primary",
) -> OnCallSchedule:
    schedule = OnCallSchedule(organization=world.agency, name=name, time_zone=zone)
    spec = RotationSpec([p.pk for p in people], weekday, at, weeks, starts_on)
    save_schedule(schedule, spec)
    return loaded(schedule)


def loaded(schedule: OnCallSchedule) -> OnCallSchedule:
    return with_timetable(OnCallSchedule.objects.filter(pk=schedule.pk)).get()


def override(schedule, user, start: datetime, end: datetime, **fields) -> OnCallOverride:
    row = OnCallOverride(schedule=schedule, user=user, starts_at=start, ends_at=end, **fields)
    row.full_clean()
    row.save()
    return row


def people_of(found) -> list[str]:
    return [s.user.username for s in found]


# --- rotations ---------------------------------------------------------------------------------


def test_it_takes_weekly_turns_in_order_from_the_hand_off(world):
    third = make_user("carol", world.agency, Role.ENGINEER)
    schedule = make_schedule(world, [world.owner, world.engineer, third])
    start = local(WARSAW, 2026, 3, 2, 9)
    found = shifts(schedule, start, start + timedelta(weeks=4))
    assert people_of(found) == ["owner", "engineer", "carol", "owner"]
    assert [s.start.astimezone(WARSAW) for s in found] == [
        start + timedelta(weeks=n) for n in range(4)
    ]
    # The fourth week holds the change to summer time (29 March): an hour shorter.
    assert [(s.end - s.start) / HOUR for s in found] == [168, 168, 168, 167]
    assert on_call_at(schedule, local(WARSAW, 2026, 3, 9, 8, 59)) == world.owner
    assert on_call_at(schedule, local(WARSAW, 2026, 3, 9, 9, 0)) == world.engineer


def test_it_keeps_the_hand_off_at_local_time_across_the_march_change(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    # Summer time starts in Warsaw on Sunday 29 March 2026: that week is an hour short.
    found = shifts(schedule, local(WARSAW, 2026, 3, 23, 9), local(WARSAW, 2026, 4, 6, 9))
    assert [(s.end - s.start) / HOUR for s in found] == [167, 168]
    assert [s.start.astimezone(WARSAW).hour for s in found] == [9, 9]
    assert found[0].start == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert found[0].end == datetime(2026, 3, 30, 7, tzinfo=UTC)


def test_it_keeps_the_hand_off_at_local_time_across_the_october_change(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    # Summer time ends on Sunday 25 October 2026: that week is an hour long.
    found = shifts(schedule, local(WARSAW, 2026, 10, 19, 9), local(WARSAW, 2026, 11, 2, 9))
    assert [(s.end - s.start) / HOUR for s in found] == [169, 168]
    assert found[0].end == datetime(2026, 10, 26, 8, tzinfo=UTC)
    assert found[0].end.astimezone(WARSAW).hour == 9


def test_it_hands_off_just_after_a_local_time_the_clock_skips(world):
    # 02:30 does not exist in Warsaw on 29 March 2026; that hand-off happens at 03:30 CEST.
    schedule = make_schedule(
        world,
        [world.owner, world.engineer],
        starts_on=date(2026, 3, 22),
        weekday=Weekday.SUNDAY,
        at=time(2, 30),
    )
    found = shifts(schedule, local(WARSAW, 2026, 3, 22, 3), local(WARSAW, 2026, 4, 6))
    assert found[1].start == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert found[1].start.astimezone(WARSAW).strftime("%H:%M") == "03:30"
    assert found[2].start.astimezone(WARSAW).strftime("%H:%M") == "02:30"
    assert found[0].end == found[1].start and found[1].end == found[2].start


def test_it_starts_mid_week_with_a_shorter_first_turn_and_covers_nothing_before(world):
    schedule = make_schedule(world, [world.owner, world.engineer], starts_on=date(2026, 3, 4))
    found = shifts(schedule, local(WARSAW, 2026, 3, 1), local(WARSAW, 2026, 3, 17))
    assert [(s.user.username, s.start.astimezone(WARSAW)) for s in found] == [
        ("owner", local(WARSAW, 2026, 3, 4, 9)),  # Wednesday at the hand-off time
        ("engineer", local(WARSAW, 2026, 3, 9, 9)),  # then Monday hand-offs
        ("owner", local(WARSAW, 2026, 3, 16, 9)),
    ]
    assert on_call_at(schedule, local(WARSAW, 2026, 3, 4, 8, 59)) is None


def test_it_turns_every_length_in_weeks(world):
    schedule = make_schedule(world, [world.owner, world.engineer], weeks=2)
    found = shifts(schedule, local(WARSAW, 2026, 3, 2, 9), local(WARSAW, 2026, 4, 13, 9))
    assert people_of(found) == ["owner", "engineer", "owner"]
    assert found[1].start.astimezone(WARSAW) == local(WARSAW, 2026, 3, 16, 9)


def test_it_merges_the_turns_of_a_single_person_into_one_shift(world):
    schedule = make_schedule(world, [world.owner])
    found = shifts(schedule, local(WARSAW, 2026, 3, 10), local(WARSAW, 2026, 5, 1))
    assert len(found) == 1
    assert (found[0].start, found[0].end) == (local(WARSAW, 2026, 3, 10), local(WARSAW, 2026, 5, 1))


def test_it_refuses_naive_or_reversed_windows(world):
    schedule = make_schedule(world, [world.owner])
    with pytest.raises(ValueError):
        shifts(schedule, datetime(2026, 3, 10), datetime(2026, 3, 11))
    with pytest.raises(ValueError):
        shifts(schedule, local(WARSAW, 2026, 3, 11), local(WARSAW, 2026, 3, 10))
    with pytest.raises(ValueError):
        on_call_at(schedule, datetime(2026, 3, 10))


# --- overrides ---------------------------------------------------------------------------------


def test_it_cuts_an_override_into_the_rotation(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    swap = (local(WARSAW, 2026, 3, 4, 18), local(WARSAW, 2026, 3, 6, 8))
    override(schedule, world.engineer, *swap, reason="dentist")
    schedule = loaded(schedule)
    found = shifts(schedule, local(WARSAW, 2026, 3, 2, 9), local(WARSAW, 2026, 3, 16, 9))
    assert [(s.user.username, s.start, s.end) for s in found] == [
        ("owner", local(WARSAW, 2026, 3, 2, 9), swap[0]),
        ("engineer", *swap),
        ("owner", swap[1], local(WARSAW, 2026, 3, 9, 9)),
        ("engineer", local(WARSAW, 2026, 3, 9, 9), local(WARSAW, 2026, 3, 16, 9)),
    ]
    assert on_call_at(schedule, swap[0]) == world.engineer
    assert on_call_at(schedule, swap[1] - timedelta(microseconds=1)) == world.engineer
    assert on_call_at(schedule, swap[1]) == world.owner


def test_it_joins_an_override_to_the_same_persons_next_turn(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    # The engineer takes the owner's last day: their own turn simply starts a day early.
    override(schedule, world.engineer, local(WARSAW, 2026, 3, 8, 9), local(WARSAW, 2026, 3, 9, 9))
    found = shifts(loaded(schedule), local(WARSAW, 2026, 3, 2, 9), local(WARSAW, 2026, 3, 16, 9))
    assert [(s.user.username, s.start) for s in found] == [
        ("owner", local(WARSAW, 2026, 3, 2, 9)),
        ("engineer", local(WARSAW, 2026, 3, 8, 9)),
    ]


def test_it_lets_the_latest_override_win_where_two_overlap(world):
    schedule = make_schedule(world, [world.owner])
    third = make_user("carol", world.agency, Role.ENGINEER)
    with time_machine.travel(datetime(2026, 2, 1, tzinfo=UTC), tick=False):
        override(schedule, world.engineer, local(WARSAW, 2026, 3, 3), local(WARSAW, 2026, 3, 6))
    with time_machine.travel(datetime(2026, 2, 2, tzinfo=UTC), tick=False):
        override(schedule, third, local(WARSAW, 2026, 3, 4), local(WARSAW, 2026, 3, 5))
    schedule = loaded(schedule)
    found = shifts(schedule, local(WARSAW, 2026, 3, 3), local(WARSAW, 2026, 3, 7))
    assert people_of(found) == ["engineer", "carol", "engineer", "owner"]
    assert on_call_at(schedule, local(WARSAW, 2026, 3, 4, 12)) == third


def test_it_covers_with_overrides_alone_when_there_is_no_rotation(world):
    schedule = OnCallSchedule(organization=world.agency, name="Holidays only")
    save_schedule(schedule, None)
    override(schedule, world.owner, local(WARSAW, 2026, 12, 24), local(WARSAW, 2026, 12, 27))
    schedule = loaded(schedule)
    found = shifts(schedule, local(WARSAW, 2026, 12, 1), local(WARSAW, 2027, 1, 1))
    assert [(s.start, s.end) for s in found] == [
        (local(WARSAW, 2026, 12, 24), local(WARSAW, 2026, 12, 27))
    ]
    assert on_call_at(schedule, local(WARSAW, 2026, 12, 23)) is None


def test_it_says_who_is_on_call_since_and_until_when(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    now = on_call_now(schedule, local(WARSAW, 2026, 3, 11, 15))
    assert now.user == world.engineer
    assert (now.since, now.until) == (local(WARSAW, 2026, 3, 9, 9), local(WARSAW, 2026, 3, 16, 9))
    before = on_call_now(schedule, local(WARSAW, 2026, 2, 20))
    assert before.user is None
    assert (before.since, before.until) == (None, local(WARSAW, 2026, 3, 2, 9))
    alone = make_schedule(world, [world.owner], name="Solo")
    forever = on_call_now(alone, local(WARSAW, 2026, 3, 11))
    assert (forever.user, forever.until) == (world.owner, None)


def test_it_lists_one_persons_shifts_across_schedules(world):
    first = make_schedule(world, [world.owner, world.engineer])
    second = make_schedule(world, [world.engineer], name="Servers", starts_on=date(2026, 3, 11))
    found = shifts_of(
        world.engineer, [first, second], local(WARSAW, 2026, 3, 2), local(WARSAW, 2026, 3, 20)
    )
    assert [(s.schedule.name, s.start, s.end) for s in found] == [
        ("Primary", local(WARSAW, 2026, 3, 9, 9), local(WARSAW, 2026, 3, 16, 9)),
        ("Servers", local(WARSAW, 2026, 3, 11, 9), local(WARSAW, 2026, 3, 20)),
    ]


def test_it_drops_people_who_left_the_agency_from_the_turns(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    world.engineer.membership.role = Role.CLIENT
    world.engineer.membership.client = world.client_a
    world.engineer.membership.save()
    found = shifts(loaded(schedule), local(WARSAW, 2026, 3, 2, 9), local(WARSAW, 2026, 3, 16, 9))
    assert people_of(found) == ["owner"]


def test_it_answers_escalation_with_one_call(world, django_assert_max_num_queries):
    schedule = make_schedule(world, [world.owner, world.engineer])
    override(schedule, world.owner, local(WARSAW, 2026, 3, 10), local(WARSAW, 2026, 3, 11))
    with django_assert_max_num_queries(5):
        assert on_call_in(schedule.pk, local(WARSAW, 2026, 3, 10, 12)) == world.owner
    assert on_call_in(schedule.pk, local(WARSAW, 2026, 3, 12, 12)) == world.engineer
    assert on_call_in(987_654, local(WARSAW, 2026, 3, 12, 12)) is None


def test_it_loads_many_schedules_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    for n in range(5):
        schedule = make_schedule(world, [world.owner, world.engineer], name=f"S{n}")
        override(schedule, world.owner, local(WARSAW, 2026, 3, 10), local(WARSAW, 2026, 3, 11))
    with django_assert_num_queries(4):
        schedules = list(with_timetable(OnCallSchedule.objects.all()))
        for schedule in schedules:
            on_call_at(schedule, local(WARSAW, 2026, 3, 10, 12))


# --- the rules of edits --------------------------------------------------------------------------


def test_it_refuses_a_bad_rotation_naming_each_field_and_writes_nothing(world):
    other_agency = Organization.objects.create(name="Other", slug="other")
    stranger = make_user("stranger", other_agency, Role.OWNER)
    schedule = OnCallSchedule(organization=world.agency, name="", time_zone="Mars/Olympus")
    spec = RotationSpec(
        [world.owner.pk, world.owner.pk, world.client_a_user.pk, stranger.pk],
        9,
        time(9),
        0,
        date(2026, 3, 2),
    )
    with pytest.raises(ValidationError) as caught:
        save_schedule(schedule, spec)
    errors = caught.value.message_dict
    assert set(errors) == {
        "name",
        "time_zone",
        "rotation.handoff_weekday",
        "rotation.length_weeks",
        "rotation.participants",
    }
    assert "Mars/Olympus" in errors["time_zone"][0]
    assert len(errors["rotation.participants"]) == 3  # listed twice, a client, a stranger
    assert not OnCallSchedule.objects.exists() and not Rotation.objects.exists()


def test_it_refuses_an_empty_rotation_and_a_taken_name(world):
    make_schedule(world, [world.owner])
    schedule = OnCallSchedule(organization=world.agency, name="Primary")
    with pytest.raises(ValidationError) as caught:
        save_schedule(schedule, RotationSpec([], 0, time(9), 1, date(2026, 3, 2)))
    assert set(caught.value.message_dict) == {"name", "rotation.participants"}
    assert OnCallSchedule.objects.count() == 1


def test_it_replaces_the_rotation_and_its_order_on_edit(world):
    schedule = make_schedule(world, [world.owner, world.engineer])
    spec = RotationSpec([world.engineer.pk, world.owner.pk], 4, time(17, 30), 2, date(2026, 3, 6))
    save_schedule(schedule, spec)
    assert rotation_spec(schedule) == spec
    assert Rotation.objects.count() == 1 and RotationParticipant.objects.count() == 2
    save_schedule(schedule, None)
    assert rotation_spec(schedule) is None
    assert not RotationParticipant.objects.exists()


def test_it_refuses_an_override_ending_before_it_starts_or_for_a_client_user(world):
    schedule = make_schedule(world, [world.owner])
    start = local(WARSAW, 2026, 3, 10)
    with pytest.raises(ValidationError) as caught:
        override(schedule, world.engineer, start, start)
    assert set(caught.value.message_dict) == {"ends_at"}
    with pytest.raises(ValidationError) as caught:
        override(schedule, world.client_a_user, start, start + HOUR)
    assert set(caught.value.message_dict) == {"user"}
    assert not OnCallOverride.objects.exists()


# --- properties ----------------------------------------------------------------------------------

ZONES = ["Europe/Warsaw", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
PEOPLE = [User(pk=n, username=f"p{n}") for n in range(1, 6)]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def moments(days: int) -> st.SearchStrategy[datetime]:
    return st.integers(0, days * 1440).map(lambda m: BASE + timedelta(minutes=m))


@st.composite
def layers(draw) -> Layer:
    return Layer(
        people=tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=4, unique=True))),
        handoff_weekday=draw(st.integers(0, 6)),
        handoff_time=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))),
        length_weeks=draw(st.integers(1, 3)),
        starts_on=date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 365))),
    )


@st.composite
def timetables(draw) -> Timetable:
    overrides = [
        Shift(draw(st.sampled_from(PEOPLE)), start, start + timedelta(minutes=length))
        for start, length in draw(
            st.lists(st.tuples(moments(400), st.integers(1, 20 * 1440)), max_size=4)
        )
    ]
    return Timetable(
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        layers=(draw(layers()),),
        overrides=tuple(overrides),
    )


def covered_from(table: Timetable) -> datetime:
    layer = table.layers[0]
    return datetime.combine(layer.starts_on, layer.handoff_time, tzinfo=table.zone)


def expected_at(found: list[Shift], at: datetime) -> User | None:
    return next((s.user for s in found if s.start <= at < s.end), None)


@settings(max_examples=300, deadline=None)
@given(table=timetables(), start=moments(420), length=st.integers(0, 60 * 1440))
def test_it_tiles_any_window_and_agrees_with_on_call_at(table, start, length):
    end = start + timedelta(minutes=length)
    found = timetable_shifts(table, start, end)
    # Sorted, inside the window, never overlapping, one shift per stretch of one person.
    for shift in found:
        assert start <= shift.start < shift.end <= end
    for before, after in pairwise(found):
        assert before.end <= after.start
        assert before.end < after.start or before.user != after.user
    # No gaps at all once a rotation with people is under way.
    if table.layers[0].people and start >= covered_from(table) and start < end:
        assert found[0].start == start and found[-1].end == end
        assert all(a.end == b.start for a, b in pairwise(found))
    # on_call_at says the same at every edge and in the middle of every shift and gap.
    edges = sorted({start, end, *(s.start for s in found), *(s.end for s in found)})
    for low, high in pairwise(edges):
        for at in (low, low + (high - low) / 2, high - TICK):
            assert timetable_on_call(table, at) == expected_at(found, at), at


@settings(max_examples=200, deadline=None)
@given(layer=layers(), zone=st.sampled_from(ZONES), start=moments(420))
def test_it_hands_off_at_the_local_time_and_day(layer, zone, start):
    table = Timetable(zone=ZoneInfo(zone), layers=(layer,), overrides=())
    found = timetable_shifts(table, start, start + timedelta(weeks=8))
    for shift in found[1:]:
        handoff = shift.start.astimezone(table.zone)
        wall = datetime.combine(handoff.date(), layer.handoff_time, tzinfo=table.zone)
        skipped = wall.astimezone(UTC).astimezone(table.zone).time() != layer.handoff_time
        # A hand-off at a time the clock skips that day happens just after the jump.
        assert handoff.time() == layer.handoff_time or skipped
        assert handoff.weekday() == layer.handoff_weekday
