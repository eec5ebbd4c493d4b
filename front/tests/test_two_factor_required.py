"""An agency owner requires two-factor sign-in: members without it enrol before anything else
on the web; their API tokens keep working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client as HttpClient
from django.urls import reverse

from api.tests.conftest import ApiCaller
from front.tests.conftest import PASSWORD
from front.tests.test_two_factor_signin import through_both_steps
from tenancy.models import ApiToken, Organization, TwoFactor
from tenancy.tests.test_two_factor import code_at, enrolled

START = datetime(2026, 3, 2, 8, 0, 10, tzinfo=UTC)


def sign_in(username: str) -> HttpClient:
    browser = HttpClient()
    response = browser.post(reverse("front:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_it_lets_only_an_owner_with_two_factor_require_it(world):
    with time_machine.travel(START, tick=False):
        url = reverse("front:agency_two_factor")
        engineer = sign_in("engineer")
        assert engineer.post(url, {"require": "on"}).status_code == 404
        owner = sign_in("owner")
        refused = owner.post(url, {"require": "on"}, follow=True)
        assert "Turn on two-factor sign-in for yourself" in refused.content.decode()
        assert not Organization.objects.get(pk=world.agency.pk).require_two_factor
        secret, _codes = enrolled(world.owner, START - timedelta(minutes=5))
        owner = through_both_steps("owner", code_at(secret, START))
        done = owner.post(url, {"require": "on"}, follow=True)
        assert "now required" in done.content.decode()
        assert Organization.objects.get(pk=world.agency.pk).require_two_factor
        profile = done.content.decode()
        assert 'id="require-two-factor" checked' in profile
        assert profile.count('<span class="badge badge--up">on</span>') >= 2  # owner: self + list


def test_it_sends_a_member_without_two_factor_to_enrol_before_anything_else(world):
    Organization.objects.filter(pk=world.agency.pk).update(require_two_factor=True)
    _token, raw = ApiToken.issue(world.client_a_user, "reporting")
    with time_machine.travel(START, tick=False):
        browser = sign_in("alice")
        enrol_url = reverse("front:two_factor")
        for url in (
            reverse("front:dashboard"),
            reverse("front:incidents"),
            reverse("front:client", args=[world.client_a.pk]),
            reverse("front:profile"),
        ):
            response = browser.get(url)
            assert response.status_code == 302 and response["Location"] == enrol_url, url
        page = browser.get(enrol_url)
        assert page.status_code == 200
        assert "Your agency requires two-factor sign-in" in page.content.decode()
        # The API refuses this browser session, but the user's token works: a choice.
        session_call = browser.get("/api/v1/me")
        assert session_call.status_code == 403
        assert "requires two-factor sign-in" in session_call.json()["detail"]
        assert ApiCaller(raw).get("/me").status_code == 200
        # Once enrolled, everything opens.
        secret = TwoFactor.objects.get(user=world.client_a_user).secret
        assert browser.post(enrol_url, {"code": code_at(secret, START)}).status_code == 200
        assert browser.get(reverse("front:dashboard")).status_code == 200
        assert browser.get("/api/v1/me").status_code == 200


def test_it_lets_a_member_who_must_enrol_sign_out(world):
    Organization.objects.filter(pk=world.agency.pk).update(require_two_factor=True)
    browser = sign_in("engineer")
    response = browser.post(reverse("front:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in browser.session


def test_it_refuses_the_session_of_a_member_who_must_enrol_whatever_headers_come_with_it(world):
    Organization.objects.filter(pk=world.agency.pk).update(require_two_factor=True)
    browser = sign_in("engineer")
    for header in ("", "Basic eDp5", "x", "Token abc", "Bearer"):
        headers = {"Authorization": header} if header else {}
        refused = browser.get("/api/v1/me", headers=headers)
        assert refused.status_code in (401, 403), header
        if refused.status_code == 403:
            assert "requires two-factor sign-in" in refused.json()["detail"]
        made = browser.post(
            "/api/v1/tokens", {"name": "escape"}, content_type="application/json", headers=headers
        )
        assert made.status_code in (401, 403), header
    assert not ApiToken.objects.exists()
    # A real token of the member's still works with the same session cookie beside it.
    _token, raw = ApiToken.issue(world.engineer, "script")
    token_call = browser.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert token_call.status_code == 200
