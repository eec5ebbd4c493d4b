"""On-call pages and the calendar feed: personas, forms, overrides in local time, iCal text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client as HttpClient
from django.urls import reverse

from conftest import make_user
from front.tests.conftest import PASSWORD, signed_in
from incidents.models import OnCallOverride, OnCallSchedule, Rotation
from incidents.oncall import shifts_of, with_timetable
from incidents.oncall_edit import RotationSpec, save_schedule
from incidents.oncall_feed import FEED_SALT, feed_token
from tenancy.models import Organization, Role

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def schedule(world) -> OnCallSchedule:
    """Owner and engineer take weekly turns, Monday 09:00 Warsaw, owner first from 2 March."""
    schedule = OnCallSchedule(organization=world.agency, name="Primary")
    spec = RotationSpec([world.owner.pk, world.engineer.pk], 0, time(9), 1, date(2026, 3, 2))
    save_schedule(schedule, spec)
    return schedule


@pytest.fixture
def foreign_schedule(db) -> OnCallSchedule:
    other = Organization.objects.create(name="Other agency", slug="other")
    boss = make_user("boss", other, Role.OWNER)
    schedule = OnCallSchedule(organization=other, name="Their night shift")
    save_schedule(schedule, RotationSpec([boss.pk], 0, time(9), 1, date(2026, 3, 2)))
    return schedule


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def schedule_urls(schedule: OnCallSchedule) -> list[str]:
    return [
        reverse("front:oncall"),
        reverse("front:oncall_new"),
        reverse("front:oncall_schedule", kwargs={"schedule_id": schedule.pk}),
        reverse("front:oncall_edit", kwargs={"schedule_id": schedule.pk}),
    ]


# --- who sees what -------------------------------------------------------------------------------


def test_it_shows_agency_staff_who_is_on_call_and_the_next_hand_off(world, schedule):
    for user in (world.owner, world.engineer):
        html = signed_in(user).get(reverse("front:oncall")).content.decode()
        assert "Primary" in html
        assert 'href="/oncall/"' in html  # the nav link
        # Week of 9 March: the engineer's turn, handed back on Monday 16 March at 09:00.
        assert re.search(r"<span class=\"strong\">engineer</span>", html)
        assert "Mon 16 Mar, 09:00" in html


def test_it_answers_404_to_client_users_everywhere_and_hides_the_link(world, schedule):
    for user in (world.client_a_user, world.client_b_user):
        browser = signed_in(user)
        for url in schedule_urls(schedule):
            assert browser.get(url).status_code == 404, url
        assert browser.post(reverse("front:oncall_new"), {"name": "x"}).status_code == 404
        deleted = browser.post(reverse("front:oncall_delete"), {"schedule": schedule.pk})
        assert deleted.status_code == 404
        assert 'href="/oncall/"' not in browser.get(reverse("front:dashboard")).content.decode()
    assert OnCallSchedule.objects.filter(pk=schedule.pk).exists()


def test_it_answers_404_for_another_agencys_schedule(world, schedule, foreign_schedule):
    browser = signed_in(world.owner)
    for url in schedule_urls(foreign_schedule)[2:]:
        assert browser.get(url).status_code == 404, url
    assert "Their night shift" not in browser.get(reverse("front:oncall")).content.decode()
    assert (
        browser.post(reverse("front:oncall_delete"), {"schedule": foreign_schedule.pk}).status_code
        == 404
    )
    override = OnCallOverride.objects.create(
        schedule=foreign_schedule,
        user=foreign_schedule.rotations.get().members.get().user,
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
    )
    gone = browser.post(reverse("front:oncall_override_delete"), {"override": override.pk})
    assert gone.status_code == 404
    assert OnCallOverride.objects.filter(pk=override.pk).exists()


def test_it_sends_signed_out_visitors_to_sign_in(schedule):
    response = HttpClient().get(
        reverse("front:oncall_schedule", kwargs={"schedule_id": schedule.pk})
    )
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the schedule page and its forms -------------------------------------------------------------


def test_it_lists_the_next_fourteen_days_in_the_schedules_zone(world, schedule):
    html = (
        signed_in(world.engineer)
        .get(reverse("front:oncall_schedule", kwargs={"schedule_id": schedule.pk}))
        .content.decode()
    )
    assert "Times in Europe/Warsaw." in html
    # From now (13:00 Warsaw) to 25 March 13:00: engineer, owner, engineer.
    rows = re.findall(r'class="strong">(\w+)</td>\s*<td[^>]*><time datetime="([^"]+)"', html)
    assert [(name, stamp[:16]) for name, stamp in rows] == [
        ("engineer", "2026-03-11T13:00"),
        ("owner", "2026-03-16T09:00"),
        ("engineer", "2026-03-23T09:00"),
    ]


def form_data(**changes) -> dict[str, str]:
    data = {
        "name": "Servers",
        "time_zone": "Europe/Warsaw",
        "participants": "engineer\nowner",
        "handoff_weekday": "4",
        "handoff_time": "17:30",
        "length_weeks": "2",
        "starts_on": "2026-03-13",
    }
    return {**data, **changes}


def test_it_creates_a_schedule_with_its_rotation_in_order(world):
    response = signed_in(world.engineer).post(reverse("front:oncall_new"), form_data())
    schedule = OnCallSchedule.objects.get(name="Servers")
    assert response.status_code == 302
    assert response["Location"] == f"/oncall/{schedule.pk}/"
    rotation = Rotation.objects.get(schedule=schedule)
    assert [m.user.username for m in rotation.members.all()] == ["engineer", "owner"]
    assert (rotation.handoff_weekday, rotation.handoff_time) == (4, time(17, 30))
    assert (rotation.length_weeks, rotation.starts_on) == (2, date(2026, 3, 13))


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"participants": "engineer\nalice"}, "participants", "alice"),
        ({"participants": "owner, owner"}, "participants", "twice"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "Europe/Atlantis"),
        ({"length_weeks": "0"}, "length_weeks", "greater than or equal to 1"),
        ({"starts_on": "someday"}, "starts_on", "valid date"),
        ({"name": "Primary"}, "name", "already exists"),
    ],
)
def test_it_refuses_a_bad_schedule_form_naming_the_field(world, schedule, changes, field, words):
    response = signed_in(world.owner).post(reverse("front:oncall_new"), form_data(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert words in str(errors[field])
    assert OnCallSchedule.objects.count() == 1  # nothing half-written


def test_it_edits_a_schedule_from_a_prefilled_form(world, schedule):
    browser = signed_in(world.owner)
    url = reverse("front:oncall_edit", kwargs={"schedule_id": schedule.pk})
    form = browser.get(url).context["form"]
    assert form.initial["participants"] == "owner\nengineer"
    assert form.initial["name"] == "Primary"
    response = browser.post(url, form_data(name="Primary", participants="engineer owner"))
    assert response.status_code == 302
    members = Rotation.objects.get(schedule=schedule).members.all()
    assert [m.user.username for m in members] == ["engineer", "owner"]
    assert Rotation.objects.count() == 1


def test_it_adds_an_override_in_the_schedules_local_time(world, schedule):
    url = reverse("front:oncall_schedule", kwargs={"schedule_id": schedule.pk})
    data = {
        "user": world.owner.pk,
        "starts_at": "2026-03-12T18:00",
        "ends_at": "2026-03-13T08:00",
        "reason": "swap for the dentist",
    }
    response = signed_in(world.engineer).post(url, data)
    assert response.status_code == 302
    override = OnCallOverride.objects.get()
    assert override.starts_at == datetime(2026, 3, 12, 17, tzinfo=UTC)  # 18:00 CET
    html = signed_in(world.engineer).get(url).content.decode()
    assert "swap for the dentist" in html
    assert "Thu 12 Mar, 18:00" in html  # cut into the engineer's week


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2026-03-12T17:00"}, "ends_at"),
        ({"user": "client"}, "user"),
        ({"starts_at": "2026-03-29T02:30"}, "starts_at"),  # skipped by the clock in Warsaw
    ],
)
def test_it_refuses_a_bad_override_naming_the_field(world, schedule, changes, field):
    data = {"user": world.owner.pk, "starts_at": "2026-03-12T18:00", "ends_at": "2026-03-30T08:00"}
    data.update(changes)
    if data["user"] == "client":
        data["user"] = world.client_a_user.pk
    url = reverse("front:oncall_schedule", kwargs={"schedule_id": schedule.pk})
    response = signed_in(world.owner).post(url, data)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not OnCallOverride.objects.exists()


def test_it_deletes_overrides_and_schedules(world, schedule):
    override = OnCallOverride.objects.create(
        schedule=schedule, user=world.owner, starts_at=NOW, ends_at=NOW + timedelta(hours=2)
    )
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:oncall_override_delete"), {"override": override.pk})
    assert response["Location"] == f"/oncall/{schedule.pk}/"
    assert not OnCallOverride.objects.exists()
    assert browser.post(reverse("front:oncall_delete"), {"schedule": "x"}).status_code == 404
    response = browser.post(reverse("front:oncall_delete"), {"schedule": schedule.pk})
    assert response["Location"] == "/oncall/"
    assert not OnCallSchedule.objects.exists()


# --- the calendar feed ---------------------------------------------------------------------------


def parse_calendar(text: str) -> list[dict[str, str]]:
    """Check the RFC 5545 framing, then unfold and unescape; one dict per VEVENT."""
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode()) <= 75, line
    unfolded: list[str] = []
    for line in lines:
        if line.startswith(" "):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in unfolded and any(u.startswith("PRODID:") for u in unfolded)
    events: list[dict[str, str]] = []
    for line in unfolded:
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            events.append({})
        elif events and line != "END:VEVENT" and "END:VEVENT" not in events[-1]:
            events[-1][name] = re.sub(
                r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value
            )
    return events


def utc(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def test_it_serves_a_persons_shifts_as_a_calendar_without_a_session(world, schedule):
    awkward = 'Nocny dyżur; serwery, bazy \\ "łącza"\nzapas — ' + "ż" * 40
    second = OnCallSchedule(organization=world.agency, name="Nocny dyżur")
    save_schedule(second, RotationSpec([world.engineer.pk], 2, time(8), 1, date(2026, 3, 11)))
    # A newline is refused in names today; one stored before that rule is still escaped.
    OnCallSchedule.objects.filter(pk=second.pk).update(name=awkward)
    page = signed_in(world.engineer).get(reverse("front:oncall")).content.decode()
    token = feed_token(world.engineer)
    assert f"http://127.0.0.1:8000/oncall/ical/{token}.ics" in page
    response = HttpClient().get(f"/oncall/ical/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = parse_calendar(response.content.decode())
    schedules = with_timetable(OnCallSchedule.objects.all())
    # The feed's window runs from midnight UTC 4 weeks ago to midnight 26 weeks on.
    window = (datetime(2026, 2, 11, tzinfo=UTC), datetime(2026, 9, 9, tzinfo=UTC))
    expected = shifts_of(world.engineer, schedules, *window)
    assert len(expected) >= 10
    assert [(utc(e["DTSTART"]), utc(e["DTEND"])) for e in events] == [
        (s.start, s.end) for s in expected
    ]
    assert {e["SUMMARY"] for e in events} == {"On call: Primary", f"On call: {awkward}"}
    assert len({e["UID"] for e in events}) == len(events)
    assert all(e["DTSTAMP"] == "20260311T120000Z" for e in events)
    raw = response.content.decode()
    assert "dyżur\\; serwery\\, bazy \\\\" in raw.replace("\r\n ", "")
    assert "\\nzapas" in raw.replace("\r\n ", "")


def test_it_refuses_forged_stale_and_client_tokens_with_404(world, schedule):
    token = feed_token(world.owner)
    owner_id, digest = signing.loads(token, salt=FEED_SALT)
    head, _, signature = token.rpartition(":")
    forgeries = [
        f"{head}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",  # signature altered
        signing.dumps([owner_id, digest], key="not-the-secret-key", salt=FEED_SALT),
        signing.dumps([owner_id, digest]),  # the right key without the feed's salt
        signing.dumps([world.engineer.pk, digest], salt=FEED_SALT),  # someone else's digest
        "nonsense",
        feed_token(world.client_a_user),  # client users have no shifts to show
    ]
    for bad in forgeries:
        assert HttpClient().get(f"/oncall/ical/{bad}.ics").status_code == 404, bad
    assert HttpClient().get(f"/oncall/ical/{token}.ics").status_code == 200
    world.owner.set_password("a-new-secret-42")
    world.owner.save()
    assert HttpClient().get(f"/oncall/ical/{token}.ics").status_code == 404
    assert HttpClient().get(f"/oncall/ical/{feed_token(world.owner)}.ics").status_code == 200


# --- the back office ---------------------------------------------------------------------------


def test_it_opens_the_admin_and_refuses_a_client_user_in_a_rotation(world, schedule):
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    staff = signed_in(User.objects.get(username="root"))
    rotation = schedule.rotations.get()
    for url in (
        "/admin/incidents/oncallschedule/",
        f"/admin/incidents/oncallschedule/{schedule.pk}/change/",
        "/admin/incidents/rotation/",
        f"/admin/incidents/rotation/{rotation.pk}/change/",
    ):
        assert staff.get(url).status_code == 200, url
    members = list(rotation.members.all())
    form = {
        "schedule": schedule.pk,
        "handoff_weekday": 0,
        "handoff_time": "09:00",
        "length_weeks": 1,
        "starts_on": "2026-03-02",
        "members-TOTAL_FORMS": 3,
        "members-INITIAL_FORMS": 2,
        "members-0-id": members[0].pk,
        "members-0-rotation": rotation.pk,
        "members-0-position": 0,
        "members-0-user": members[0].user_id,
        "members-1-id": members[1].pk,
        "members-1-rotation": rotation.pk,
        "members-1-position": 1,
        "members-1-user": members[1].user_id,
        "members-2-rotation": rotation.pk,
        "members-2-position": 2,
        "members-2-user": world.client_a_user.pk,
    }
    response = staff.post(f"/admin/incidents/rotation/{rotation.pk}/change/", form)
    assert response.status_code == 200  # the form again, with the refusal
    assert "Only the agency" in response.content.decode()
    assert rotation.members.count() == 2
