"""Maintenance windows in the web UI and the API, with the personas: agency members manage,
client A's user reads A's windows only, client B's user gets 404 for anything of A's."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from api.tests.conftest import ApiCaller, field_errors
from front.tests.conftest import signed_in
from incidents.models import MaintenanceWindow
from sites.models import Site
from tenancy.models import ApiToken

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # a Wednesday before spring forward


@pytest.fixture
def window_a(world):
    window = MaintenanceWindow(
        client=world.client_a,
        site=world.site_a,
        title="Sunday upgrades",
        description="Shop A may be slow.",
        start_date=date(2026, 3, 1),
        start_time=time(2),
        duration_minutes=120,
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    window.full_clean()
    window.save()
    return window


def api_for(user) -> ApiCaller:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiCaller(raw)


def form_data(**changes) -> dict[str, str]:
    data = {
        "title": "Database migration",
        "site": "",
        "start_date": "2026-03-29",
        "start_time": "02:00",
        "duration_minutes": "120",
        "repeat": "weekly",
        "rrule": "",
        "description": "",
    }
    return {**data, **changes}


# --- web UI ------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_lists_windows_with_their_next_occurrences_on_the_local_clock(world, window_a):
    page = signed_in(world.owner).get(reverse("front:maintenance", args=[world.client_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Sunday upgrades" in html
    # 29 March: 02:00 does not exist in Warsaw, the window starts at 03:00 CEST.
    assert "Sun 29 Mar 2026, 03:00" in html and "05:00" in html
    assert "Sun 5 Apr 2026, 02:00" in html
    assert "Europe/Warsaw" in html
    assert "Create window" in html


def test_it_links_the_windows_from_the_client_and_site_pages(world):
    owner = signed_in(world.owner)
    listing = reverse("front:maintenance", args=[world.client_a.pk])
    assert listing in owner.get(reverse("front:client", args=[world.client_a.pk])).content.decode()
    site_page = owner.get(reverse("front:site", args=[world.site_a.pk])).content.decode()
    assert f"{listing}?site={world.site_a.pk}" in site_page


@time_machine.travel(NOW, tick=False)
def test_it_creates_a_weekly_window_from_the_preset(world):
    browser = signed_in(world.engineer)
    response = browser.post(
        reverse("front:maintenance", args=[world.client_a.pk]),
        form_data(site=str(world.site_a.pk)),
    )
    window = MaintenanceWindow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("front:maintenance_window", args=[window.pk])
    assert (window.client, window.site, window.created_by) == (
        world.client_a,
        world.site_a,
        world.engineer,
    )
    assert window.rrule == "FREQ=WEEKLY;BYDAY=SU"  # 2026-03-29 is a Sunday
    page = browser.get(response["Location"]).content.decode()
    assert "Weekly: Sunday" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"repeat": "custom", "rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rrule", "never"),
        ({"repeat": "custom", "rrule": ""}, "rrule", "Write the rule"),
        ({"duration_minutes": "0"}, "duration_minutes", "greater than or equal to 1"),
        ({"start_date": "1999-01-01"}, "start_date", "between 2000 and 2100"),
        ({"site": "SITE_B"}, "site", "Select a valid choice"),
        ({"title": ""}, "title", "required"),
    ],
)
def test_it_shows_what_is_wrong_next_to_the_field(world, changes, field, message):
    if changes.get("site") == "SITE_B":
        changes = {**changes, "site": str(world.site_b.pk)}
    response = signed_in(world.owner).post(
        reverse("front:maintenance", args=[world.client_a.pk]), form_data(**changes)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert message in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_it_edits_and_deletes_a_window(world, window_a):
    browser = signed_in(world.owner)
    url = reverse("front:maintenance_window", args=[window_a.pk])
    page = browser.get(url)
    assert page.context["form"].initial["repeat"] == "weekly"
    response = browser.post(
        url,
        form_data(
            title="Nightly backups",
            repeat="custom",
            rrule="FREQ=DAILY;BYHOUR=1,13",
            site=str(world.site_a.pk),
        ),
    )
    assert response.status_code == 302
    window_a.refresh_from_db()
    assert (window_a.title, window_a.rrule) == ("Nightly backups", "FREQ=DAILY;BYHOUR=1,13")
    refused = browser.post(url, form_data(repeat="custom", rrule="FREQ=SECONDLY"))
    assert refused.status_code == 200
    assert "at most hourly" in refused.content.decode()
    assert "Nightly backups" in refused.content.decode()  # the stored window is shown
    window_a.refresh_from_db()
    assert window_a.rrule == "FREQ=DAILY;BYHOUR=1,13"
    deleted = browser.post(url, {"action": "delete"})
    assert deleted["Location"] == reverse("front:maintenance", args=[world.client_a.pk])
    assert not MaintenanceWindow.objects.exists()


def test_it_shows_client_users_their_windows_read_only(world, window_a):
    browser = signed_in(world.client_a_user)
    listing = reverse("front:maintenance", args=[world.client_a.pk])
    detail = reverse("front:maintenance_window", args=[window_a.pk])
    page = browser.get(listing)
    assert page.status_code == 200
    assert "Sunday upgrades" in page.content.decode()
    assert page.context["form"] is None
    assert "Create window" not in page.content.decode()
    shown = browser.get(detail)
    assert shown.status_code == 200
    assert "Shop A may be slow." in shown.content.decode()
    assert shown.context["form"] is None
    assert browser.post(listing, form_data()).status_code == 403
    assert browser.post(detail, {"action": "delete"}).status_code == 403
    assert browser.post(detail, form_data(title="Mine now")).status_code == 403
    window_a.refresh_from_db()
    assert window_a.title == "Sunday upgrades"
    assert MaintenanceWindow.objects.count() == 1


def test_it_answers_404_to_client_b_for_client_a_windows(world, window_a):
    browser = signed_in(world.client_b_user)
    listing = reverse("front:maintenance", args=[world.client_a.pk])
    detail = reverse("front:maintenance_window", args=[window_a.pk])
    for response in (
        browser.get(listing),
        browser.get(detail),
        browser.post(listing, form_data()),
        browser.post(detail, {"action": "delete"}),
        browser.get(
            reverse("front:maintenance", args=[world.client_b.pk]) + f"?site={world.site_a.pk}"
        ),
    ):
        assert response.status_code == 404
    own = browser.get(reverse("front:maintenance", args=[world.client_b.pk])).content.decode()
    assert "Sunday upgrades" not in own
    assert MaintenanceWindow.objects.filter(pk=window_a.pk).exists()


def test_it_filters_the_list_to_the_windows_of_one_site(world, window_a):
    blog = Site.objects.create(client=world.client_a, name="Blog", slug="blog")
    MaintenanceWindow.objects.create(
        client=world.client_a,
        site=blog,
        title="Blog theme update",
        start_date=date(2026, 4, 1),
        start_time=time(22),
        duration_minutes=30,
    )
    MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Hosting move",
        start_date=date(2026, 4, 2),
        start_time=time(22),
        duration_minutes=30,
    )
    url = reverse("front:maintenance", args=[world.client_a.pk]) + f"?site={world.site_a.pk}"
    html = signed_in(world.owner).get(url).content.decode()
    assert "Sunday upgrades" in html and "Hosting move" in html
    assert "Blog theme update" not in html


# --- API ---------------------------------------------------------------------------------------


def window_body(world, **changes):
    body = {
        "client": world.client_a.pk,
        "site": world.site_a.pk,
        "title": "Weekly upgrades",
        "start_date": "2026-03-01",
        "start_time": "02:00",
        "duration_minutes": 120,
        "rrule": "rrule:freq=weekly;byday=su",
    }
    return {**body, **changes}


def test_it_creates_reads_changes_and_deletes_a_window_through_the_api(world):
    owner = api_for(world.owner)
    created = owner.post("/maintenance-windows", window_body(world))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=SU"
    assert body["time_zones"] == ["Europe/Warsaw"]
    assert body["start_time"] == "02:00:00"
    window = MaintenanceWindow.objects.get(pk=body["id"])
    assert window.created_by == world.owner
    path = f"/maintenance-windows/{window.pk}"
    assert owner.get(path).json()["title"] == "Weekly upgrades"
    patched = owner.patch(path, {"duration_minutes": 90, "site": None})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["duration_minutes"], patched.json()["site"]) == (90, None)
    replaced = owner.put(path, window_body(world, title="Replaced", rrule=""))
    assert (replaced.json()["title"], replaced.json()["rrule"]) == ("Replaced", "")
    assert owner.delete(path).status_code == 204
    assert not MaintenanceWindow.objects.exists()


def test_it_answers_occurrences_across_the_spring_change_in_utc_and_local_time(world):
    owner = api_for(world.owner)
    window_id = owner.post("/maintenance-windows", window_body(world)).json()["id"]
    response = owner.get(
        f"/maintenance-windows/{window_id}/occurrences",
        **{"from": "2026-03-21T00:00:00Z", "to": "2026-04-06T00:00:00Z"},
    )
    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "start": "2026-03-22T01:00:00Z",
            "end": "2026-03-22T03:00:00Z",
            "time_zone": "Europe/Warsaw",
            "local_start": "2026-03-22T02:00:00",
            "local_end": "2026-03-22T04:00:00",
        },
        {
            "start": "2026-03-29T01:00:00Z",
            "end": "2026-03-29T03:00:00Z",
            "time_zone": "Europe/Warsaw",
            "local_start": "2026-03-29T03:00:00",
            "local_end": "2026-03-29T05:00:00",
        },
        {
            "start": "2026-04-05T00:00:00Z",
            "end": "2026-04-05T02:00:00Z",
            "time_zone": "Europe/Warsaw",
            "local_start": "2026-04-05T02:00:00",
            "local_end": "2026-04-05T04:00:00",
        },
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"start_time": "02:00+01:00"}, "start_time"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"title": ""}, "title"),
        ({"site": "SITE_B"}, "site"),
        ({"client": "CLIENT_B", "site": None}, None),  # allowed for the owner: B is theirs
        ({"client": 987_654}, "client"),
    ],
)
def test_it_answers_422_naming_the_field(world, changes, field):
    changes = {
        k: world.site_b.pk if v == "SITE_B" else world.client_b.pk if v == "CLIENT_B" else v
        for k, v in changes.items()
    }
    response = api_for(world.owner).post("/maintenance-windows", window_body(world, **changes))
    if field is None:
        assert response.status_code == 201, response.content
        return
    assert list(field_errors(response)) == [field]


def test_it_answers_422_for_a_bad_occurrence_period(world, window_a):
    owner = api_for(world.owner)
    path = f"/maintenance-windows/{window_a.pk}/occurrences"
    cases = [
        ({"from": "2026-03-21T00:00:00"}, "from"),
        ({"from": "2026-03-21T00:00:00Z", "to": "2026-03-20T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2027-06-01T00:00:00Z"}, "to"),
        ({"from": "yesterday"}, "from"),
    ]
    for query, field in cases:
        assert list(field_errors(owner.get(path, **query))) == [field], query


def test_it_lets_client_users_read_their_windows_only(world, window_a):
    a_user = api_for(world.client_a_user)
    b_user = api_for(world.client_b_user)
    path = f"/maintenance-windows/{window_a.pk}"
    assert [w["id"] for w in a_user.get("/maintenance-windows").json()["items"]] == [window_a.pk]
    assert a_user.get(path).status_code == 200
    assert a_user.get(path + "/occurrences").status_code == 200
    assert a_user.post("/maintenance-windows", window_body(world)).status_code == 403
    assert a_user.patch(path, {"title": "x"}).status_code == 403
    assert a_user.delete(path).status_code == 403
    assert b_user.get("/maintenance-windows").json() == {"items": [], "count": 0}
    for response in (
        b_user.get(path),
        b_user.get(path + "/occurrences"),
        b_user.patch(path, {"title": "x"}),
        b_user.delete(path),
    ):
        assert response.status_code == 404
    # Client users write nothing, not even a window for their own client.
    own_client = window_body(world, client=world.client_b.pk, site=world.site_b.pk)
    assert b_user.post("/maintenance-windows", own_client).status_code == 403
    window_a.refresh_from_db()
    assert window_a.title == "Sunday upgrades"


def test_it_filters_the_api_list_by_site_with_client_wide_windows(world, window_a):
    Site.objects.create(client=world.client_a, name="Blog", slug="blog")
    everywhere = MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Hosting move",
        start_date=date(2026, 4, 2),
        start_time=time(22),
        duration_minutes=30,
    )
    owner = api_for(world.owner)
    items = owner.get("/maintenance-windows", site=world.site_a.pk).json()["items"]
    assert sorted(i["id"] for i in items) == sorted([window_a.pk, everywhere.pk])
    assert owner.get("/maintenance-windows", site=world.site_b.pk).json()["count"] == 0
    assert owner.get("/maintenance-windows", client=world.client_b.pk).json()["count"] == 0
