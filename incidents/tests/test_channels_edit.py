"""Channels added and changed from the web UI and the API: routing fields, templates, the
write-only URL, and who may do it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from api.tests.conftest import ApiCaller, field_errors
from front.tests.conftest import signed_in
from incidents.models import Channel
from tenancy.models import ApiToken

SECRET_URL = "json://hooks.example/t0kenSecret42"


def api_for(user) -> ApiCaller:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiCaller(raw)


def form_data(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Shop room",
        "url": SECRET_URL,
        "client": "",
        "site": "",
        "min_severity": "minor",
        "enabled": "on",
        "title_template": "",
        "body_template": "",
    }
    data.update(values)
    return data


def test_it_adds_a_site_channel_from_the_ui(world):
    browser = signed_in(world.engineer)
    response = browser.post(
        reverse("front:channels"),
        form_data(
            site=world.site_a.pk,
            min_severity="critical",
            title_template="{state}: {site}",
            body_template="{monitor} is {state} since {since}. {ack_url}",
        ),
    )
    channel = Channel.objects.get(name="Shop room")
    assert response.status_code == 302
    assert response["Location"] == reverse("front:channel", args=[channel.pk])
    assert (channel.client_id, channel.site_id) == (world.client_a.pk, world.site_a.pk)
    assert channel.min_severity == "critical"
    assert channel.url == SECRET_URL
    assert channel.organization_id == world.agency.pk
    html = browser.get(response["Location"]).content.decode()
    assert "t0kenSecret42" not in html
    assert "json://hooks.example/***" in html
    assert "{state}: {site}" in html  # the template is shown back for editing


def test_it_refuses_unknown_placeholders_naming_the_field(world):
    browser = signed_in(world.owner)
    response = browser.post(
        reverse("front:channels"), form_data(body_template="{site} {monitor.__class__}")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "unknown placeholder {monitor.__class__}" in html
    assert not Channel.objects.filter(name="Shop room").exists()
    api = api_for(world.owner)
    refused = api.post("/channels", {"name": "X", "url": SECRET_URL, "title_template": "{0}"})
    assert refused.status_code == 422
    assert "{0}" in field_errors(refused)["title_template"]
    assert not Channel.objects.filter(name="X").exists()


def test_it_keeps_the_stored_url_when_the_field_is_left_empty(world):
    channel = Channel.objects.get(name="A hook")
    stored = channel.url
    browser = signed_in(world.owner)
    page = reverse("front:channel", args=[channel.pk])
    response = browser.post(
        page,
        form_data(
            name="A hook",
            url="",
            client=world.client_a.pk,
            min_severity="major",
            body_template="{site}",
            action="save",
        ),
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.url == stored
    assert (channel.min_severity, channel.body_template) == ("major", "{site}")


def test_it_refuses_a_site_of_another_client_and_a_taken_name(world):
    browser = signed_in(world.owner)
    mixed = browser.post(
        reverse("front:channels"), form_data(client=world.client_b.pk, site=world.site_a.pk)
    )
    assert "The site belongs to another client." in mixed.content.decode()
    taken = browser.post(reverse("front:channels"), form_data(name="A hook"))
    assert "already has a channel with this name" in taken.content.decode()
    assert Channel.objects.count() == 2


def test_it_routes_by_site_and_severity_through_the_api(world):
    api = api_for(world.owner)
    created = api.post(
        "/channels",
        {
            "name": "Shop A pager",
            "url": SECRET_URL,
            "site": world.site_a.pk,
            "min_severity": "major",
            "title_template": "{severity}: {site}",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["client"] == world.client_a.pk
    assert body["site"] == world.site_a.pk
    assert body["min_severity"] == "major"
    assert body["title_template"] == "{severity}: {site}"
    assert body["failing_since"] is None
    assert "t0kenSecret42" not in created.content.decode()
    patched = api.patch(f"/channels/{body['id']}", {"min_severity": "urgent"})
    assert "min_severity" in field_errors(patched)
    moved = api.patch(f"/channels/{body['id']}", {"site": world.site_b.pk})
    assert "site" in field_errors(moved)
    assert Channel.objects.get(pk=body["id"]).site_id == world.site_a.pk


def test_it_refuses_an_unknown_site_and_any_client_users_channel(world):
    owner = api_for(world.owner)
    unknown = owner.post("/channels", {"name": "Y", "url": SECRET_URL, "site": 987_654})
    assert "site" in field_errors(unknown)
    client_user = api_for(world.client_a_user)
    own_site = {"name": "Y", "url": SECRET_URL, "site": world.site_a.pk}
    assert client_user.post("/channels", own_site).status_code == 403  # clients never write
    assert not Channel.objects.filter(name="Y").exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_hides_client_a_channels_from_client_b(world, method):
    channel = Channel.objects.get(name="A hook")
    page = reverse("front:channel", args=[channel.pk])
    browser = signed_in(world.client_b_user)
    response = getattr(browser, method)(page, form_data(action="delete"))
    assert response.status_code == 404
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_it_shows_a_client_their_channel_read_only(world):
    channel = Channel.objects.get(name="A hook")
    page = reverse("front:channel", args=[channel.pk])
    browser = signed_in(world.client_a_user)
    html = browser.get(page).content.decode()
    assert "A hook" in html
    assert "Send a test message" not in html
    assert 'name="url"' not in html
    assert browser.post(page, form_data(action="delete")).status_code == 403
    assert browser.post(reverse("front:channels"), form_data()).status_code == 403
    assert Channel.objects.filter(pk=channel.pk).exists()
    agency_wide = Channel.objects.create(organization=world.agency, name="Ops", url=SECRET_URL)
    assert browser.get(reverse("front:channel", args=[agency_wide.pk])).status_code == 404


def test_it_deletes_a_channel_from_its_page(world):
    channel = Channel.objects.get(name="A hook")
    browser = signed_in(world.engineer)
    page = reverse("front:channel", args=[channel.pk])
    response = browser.post(page, {"action": "delete"})
    assert response.status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()
