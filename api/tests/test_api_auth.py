"""Authentication: bearer tokens (hashed at rest, revocable) and the browser session."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.core import serializers
from django.test import Client as HttpClient
from django.utils import timezone

from api.tests.conftest import ApiCaller
from tenancy.models import ApiToken


def test_it_authenticates_a_bearer_token(world):
    _token, raw = ApiToken.issue(world.engineer, "ci")
    response = ApiCaller(raw).get("/me")
    assert response.status_code == 200
    assert response.json()["username"] == "engineer"
    assert response.json()["role"] == "engineer"


def test_it_refuses_a_wrong_token_with_401_json(world):
    ApiToken.issue(world.engineer, "ci")
    for header in ("sc_wrong", "sc_", "not-even-prefixed"):
        response = ApiCaller(header).get("/clients")
        assert response.status_code == 401
        assert response.json()["detail"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_requests_without_credentials(world):
    response = HttpClient().get("/api/v1/clients")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


def test_it_refuses_a_revoked_token(world, api_as):
    token, raw = ApiToken.issue(world.owner, "laptop")
    caller = ApiCaller(raw)
    assert caller.get("/clients").status_code == 200
    assert api_as(world.owner).delete(f"/tokens/{token.pk}").status_code == 204
    assert caller.get("/clients").status_code == 401


def test_it_refuses_the_token_of_a_deactivated_user(world):
    _token, raw = ApiToken.issue(world.engineer, "ci")
    world.engineer.is_active = False
    world.engineer.save()
    assert ApiCaller(raw).get("/me").status_code == 401


def test_it_never_stores_the_raw_token(world, api_as):
    response = api_as(world.owner).post("/tokens", {"name": "deploy"})
    assert response.status_code == 201
    raw = response.json()["token"]
    assert raw.startswith("sc_")
    dump = serializers.serialize("json", ApiToken.objects.all())
    assert raw not in dump
    assert raw[len("sc_") + 6 :] not in dump
    # The raw value is shown once: listing shows the hint only.
    listed = api_as(world.owner).get("/tokens").json()["items"]
    assert all("token" not in t for t in listed)
    assert response.json()["hint"] in {t["hint"] for t in listed}
    assert ApiCaller(raw).get("/me").status_code == 200


def test_it_notes_token_use_at_most_once_a_minute(world):
    token, raw = ApiToken.issue(world.engineer, "ci")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ApiCaller(raw).get("/me")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        ApiCaller(raw).get("/me")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        ApiCaller(raw).get("/me")
        token.refresh_from_db()
        assert token.last_used_at == start + timedelta(seconds=61)


def test_it_accepts_the_session_and_requires_csrf_for_writes(world):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(world.owner)
    assert browser.get("/api/v1/me").json()["username"] == "owner"
    body = '{"name": "Client C", "slug": "client-c"}'
    refused = browser.post("/api/v1/clients", body, content_type="application/json")
    assert refused.status_code == 403
    # What the browser holds after any page rendered {% csrf_token %}: cookie and header match.
    csrf = "k7Qx2mB9pL4vR8nT1wY6zC3fH5jD0sGa"
    browser.cookies[settings.CSRF_COOKIE_NAME] = csrf
    accepted = browser.post(
        "/api/v1/clients", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 201, accepted.content


def test_it_lists_and_deletes_only_own_tokens(world, api_as):
    mine, _ = ApiToken.issue(world.client_b_user, "mine")
    theirs, _ = ApiToken.issue(world.client_a_user, "theirs")
    caller = api_as(world.client_b_user)
    names = {t["name"] for t in caller.get("/tokens").json()["items"]}
    assert "theirs" not in names
    assert "mine" in names
    assert caller.delete(f"/tokens/{theirs.pk}").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert caller.delete(f"/tokens/{mine.pk}").status_code == 204
