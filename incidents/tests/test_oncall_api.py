"""The on-call API: schedules with a nested rotation, overrides, "who is on call now"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from api.tests.conftest import ApiCaller, field_errors
from conftest import make_user
from incidents.models import OnCallOverride, OnCallSchedule, Rotation
from tenancy.models import ApiToken, Organization, Role

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # Wednesday; the engineer's week


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api_as():
    """``api_as(user)``: calls the API with a fresh token of that user."""

    def make(user) -> ApiCaller:
        _token, raw = ApiToken.issue(user, "tests")
        return ApiCaller(raw)

    return make


@pytest.fixture
def owner_api(world, api_as):
    return api_as(world.owner)


def body(world, **changes) -> dict:
    rotation = {
        "participants": [world.owner.pk, world.engineer.pk],
        "handoff_weekday": 0,
        "handoff_time": "09:00",
        "starts_on": "2026-03-02",
    }
    return {"name": "Primary", "time_zone": "Europe/Warsaw", "rotation": rotation, **changes}


@pytest.fixture
def schedule_id(world, owner_api) -> int:
    created = owner_api.post("/oncall/schedules", body(world))
    assert created.status_code == 201, created.content
    return created.json()["id"]


def test_it_creates_and_reads_a_schedule_with_its_rotation(world, api_as, schedule_id):
    got = api_as(world.engineer).get(f"/oncall/schedules/{schedule_id}").json()
    assert got["name"] == "Primary" and got["time_zone"] == "Europe/Warsaw"
    assert got["rotation"] == {
        "participants": [
            {"id": world.owner.pk, "username": "owner"},
            {"id": world.engineer.pk, "username": "engineer"},
        ],
        "handoff_weekday": 0,
        "handoff_time": "09:00:00",
        "length_weeks": 1,
        "starts_on": "2026-03-02",
    }
    listed = api_as(world.engineer).get("/oncall/schedules").json()
    assert listed["count"] == 1 and listed["items"][0] == got


def test_it_says_who_is_on_call_and_until_when(world, owner_api, schedule_id):
    now = owner_api.get(f"/oncall/schedules/{schedule_id}/now").json()
    assert now == {
        "schedule": schedule_id,
        "at": "2026-03-11T12:00:00Z",
        "user": {"id": world.engineer.pk, "username": "engineer"},
        "since": "2026-03-09T08:00:00Z",
        "until": "2026-03-16T08:00:00Z",
    }
    later = owner_api.get(f"/oncall/schedules/{schedule_id}/now", at="2026-03-31T12:00:00+02:00")
    # Summer time began on 29 March: the 09:00 hand-off is now at 07:00 UTC.
    assert later.json()["user"]["username"] == "owner"
    assert later.json()["since"] == "2026-03-30T07:00:00Z"
    assert list(
        field_errors(owner_api.get(f"/oncall/schedules/{schedule_id}/now", at="2026-03-31T12:00"))
    ) == ["at"]


def test_it_lists_shifts_and_bounds_the_window(world, owner_api, schedule_id):
    url = f"/oncall/schedules/{schedule_id}/shifts"
    shifts = owner_api.get(url).json()
    assert [(s["user"]["username"], s["start"]) for s in shifts] == [
        ("engineer", "2026-03-11T12:00:00Z"),
        ("owner", "2026-03-16T08:00:00Z"),
        ("engineer", "2026-03-23T08:00:00Z"),
    ]
    too_long = owner_api.get(url, start="2026-01-01T00:00:00Z", end="2026-06-01T00:00:00Z")
    assert list(field_errors(too_long)) == ["end"]


def test_it_replaces_patches_and_deletes_a_schedule(world, owner_api, schedule_id):
    url = f"/oncall/schedules/{schedule_id}"
    renamed = owner_api.patch(url, {"name": "Web"})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Web"
    assert [p["username"] for p in renamed.json()["rotation"]["participants"]] == [
        "owner",
        "engineer",
    ]
    reordered = owner_api.patch(
        url, {"rotation": {"participants": [world.engineer.pk], "starts_on": "2026-03-04"}}
    )
    assert reordered.json()["rotation"]["participants"] == [
        {"id": world.engineer.pk, "username": "engineer"}
    ]
    replaced = owner_api.put(url, {"name": "Overrides only"})
    assert replaced.json()["rotation"] is None
    assert not Rotation.objects.exists()
    assert owner_api.delete(url).status_code == 204
    assert not OnCallSchedule.objects.exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"time_zone": "Mars/Olympus"}, ["time_zone"]),
        ({"name": ""}, ["name"]),
        ({"rotation": {"participants": [], "starts_on": "2026-03-02"}}, ["rotation.participants"]),
        (
            {"rotation": {"participants": [1], "handoff_weekday": 7, "length_weeks": 0}},
            ["rotation.handoff_weekday", "rotation.length_weeks", "rotation.starts_on"],
        ),
    ],
)
def test_it_names_each_bad_field(world, owner_api, changes, fields):
    response = owner_api.post("/oncall/schedules", body(world, **changes))
    assert sorted(field_errors(response)) == fields
    assert not OnCallSchedule.objects.exists()


def test_it_refuses_people_outside_the_agency_and_names_taken(world, owner_api, schedule_id):
    stranger = make_user("stranger", Organization.objects.create(name="O", slug="o"), Role.OWNER)

    def refusal(people: list[int]) -> dict[str, str]:
        rotation = {"participants": people, "starts_on": "2026-03-02"}
        return field_errors(
            owner_api.post("/oncall/schedules", body(world, name="X", rotation=rotation))
        )

    for people in ([world.client_a_user.pk], [stranger.pk], [987_654], [world.owner.pk] * 2):
        assert list(refusal(people)) == ["rotation.participants"], people
    # A stranger and an id that exists nowhere get the same words.
    words = [
        refusal([p])["rotation.participants"].replace(str(p), "#") for p in (stranger.pk, 987_654)
    ]
    assert words[0] == words[1]
    assert list(field_errors(owner_api.post("/oncall/schedules", body(world)))) == ["name"]
    assert OnCallSchedule.objects.count() == 1


def override_body(world, schedule_id: int, **changes) -> dict:
    data = {
        "schedule": schedule_id,
        "user": world.owner.pk,
        "starts_at": "2026-03-11T10:00:00Z",
        "ends_at": "2026-03-12T10:00:00Z",
        "reason": "swap",
    }
    return {**data, **changes}


def test_it_adds_an_override_that_wins_now(world, owner_api, schedule_id):
    created = owner_api.post("/oncall/overrides", override_body(world, schedule_id))
    assert created.status_code == 201, created.content
    override = created.json()
    assert override["user"] == {"id": world.owner.pk, "username": "owner"}
    assert override["schedule"] == schedule_id
    now = owner_api.get(f"/oncall/schedules/{schedule_id}/now").json()
    assert (now["user"]["username"], now["until"]) == ("owner", "2026-03-12T10:00:00Z")
    url = f"/oncall/overrides/{override['id']}"
    moved = owner_api.patch(url, {"starts_at": "2026-03-11T13:00:00+01:00"})
    assert moved.json()["starts_at"] == "2026-03-11T12:00:00Z"
    listed = owner_api.get("/oncall/overrides", schedule=schedule_id).json()
    assert [o["id"] for o in listed["items"]] == [override["id"]]
    later = owner_api.get("/oncall/overrides", ending_after="2026-03-12T10:00:00Z").json()
    assert later["count"] == 0
    assert owner_api.delete(url).status_code == 204
    assert not OnCallOverride.objects.exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"starts_at": "2026-03-11T10:00:00"}, ["starts_at"]),  # no offset
        ({"ends_at": "2026-03-11T09:00:00Z"}, ["ends_at"]),
        ({"user": "client"}, ["user"]),
        ({"user": 987_654}, ["user"]),
        ({"reason": "x" * 201}, ["reason"]),
        ({"schedule": 987_654, "user": 987_654}, ["schedule", "user"]),
    ],
)
def test_it_names_a_bad_override_field(world, owner_api, schedule_id, changes, fields):
    if changes.get("user") == "client":
        changes = {"user": world.client_a_user.pk}
    response = owner_api.post("/oncall/overrides", override_body(world, schedule_id, **changes))
    assert sorted(field_errors(response)) == fields
    assert not OnCallOverride.objects.exists()


def test_it_answers_404_to_client_users_and_other_agencies(world, api_as, schedule_id):
    created = api_as(world.owner).post("/oncall/overrides", override_body(world, schedule_id))
    override_url = f"/oncall/overrides/{created.json()['id']}"
    other = Organization.objects.create(name="Other", slug="other")
    outsider = api_as(make_user("outsider", other, Role.OWNER))
    for caller in (api_as(world.client_a_user), api_as(world.client_b_user), outsider):
        for method, path in (
            ("GET", f"/oncall/schedules/{schedule_id}"),
            ("GET", f"/oncall/schedules/{schedule_id}/now"),
            ("GET", f"/oncall/schedules/{schedule_id}/shifts"),
            ("PATCH", f"/oncall/schedules/{schedule_id}"),
            ("DELETE", f"/oncall/schedules/{schedule_id}"),
            ("GET", override_url),
            ("PATCH", override_url),
            ("DELETE", override_url),
        ):
            response = caller.call(method, path, {} if method == "PATCH" else None)
            assert response.status_code == 404, (method, path)
            assert response.json() == {"detail": "Not found", "errors": []}
    client_a = api_as(world.client_a_user)
    assert client_a.get("/oncall/schedules").status_code == 404
    assert client_a.get("/oncall/overrides").status_code == 404
    assert client_a.post("/oncall/schedules", body(world, name="Z")).status_code == 404
    assert client_a.post("/oncall/overrides", override_body(world, 1)).status_code == 404
    assert outsider.get("/oncall/schedules").json() == {"items": [], "count": 0}
    assert outsider.get("/oncall/overrides", schedule=schedule_id).json()["count"] == 0
    foreign = outsider.post("/oncall/overrides", override_body(world, schedule_id))
    assert sorted(field_errors(foreign)) == ["schedule", "user"]  # neither is theirs
    assert OnCallSchedule.objects.count() == 1 and OnCallOverride.objects.count() == 1
