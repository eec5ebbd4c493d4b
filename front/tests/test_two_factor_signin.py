"""Two-factor sign-in on the web: the code step (not skippable, throttled), recovery codes,
enrolling and turning it off (other sessions end), and the admin's door."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from api.tests.conftest import ApiCaller
from front.tests.conftest import PASSWORD, signed_in
from tenancy.models import ApiToken, TwoFactor
from tenancy.tests.test_two_factor import code_at, enrolled, wrong_code

START = datetime(2026, 3, 2, 8, 0, 10, tzinfo=UTC)
EARLIER = START - timedelta(minutes=10)


def is_signed_in(browser: HttpClient) -> bool:
    return "_auth_user_id" in browser.session


def password_step(browser: HttpClient, username: str, next_url: str = ""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return browser.post(reverse("front:login"), data)


def code_step(browser: HttpClient, code: str):
    return browser.post(reverse("front:login_code"), {"code": code})


def through_both_steps(username: str, code: str) -> HttpClient:
    """A browser signed in with the password and then ``code``."""
    browser = HttpClient()
    password_step(browser, username)
    assert code_step(browser, code).status_code == 302
    return browser


def test_it_asks_for_a_code_after_the_password_and_signs_in_only_then(world):
    secret, _codes = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False):
        browser = HttpClient()
        first = password_step(browser, "engineer", next_url="/incidents/")
        assert first.status_code == 302 and first["Location"] == reverse("front:login_code")
        assert not is_signed_in(browser)
        # Going anywhere else instead finds nobody signed in.
        for page in ("front:dashboard", "front:profile", "front:incidents"):
            assert browser.get(reverse(page))["Location"].startswith(reverse("front:login"))
        assert browser.get("/api/v1/me").status_code == 401
        assert browser.get("/admin/").status_code == 302
        form = browser.get(reverse("front:login_code"))
        assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.content.decode()
        wrong = code_step(browser, wrong_code(secret, START))
        assert wrong.status_code == 200 and not is_signed_in(browser)
        assert "This code is not valid" in wrong.content.decode()
        done = code_step(browser, code_at(secret, START))
        assert done.status_code == 302 and done["Location"] == "/incidents/"
        assert is_signed_in(browser)
        assert browser.get(reverse("front:dashboard")).status_code == 200


def test_it_refuses_a_code_used_once_already(world):
    secret, _codes = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False):
        through_both_steps("engineer", code_at(secret, START))
        second = HttpClient()
        password_step(second, "engineer")
        replayed = code_step(second, code_at(secret, START))
        assert replayed.status_code == 200 and not is_signed_in(second)


def test_it_throttles_the_code_step(world):
    secret, _codes = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False) as clock:
        browser = HttpClient()
        password_step(browser, "engineer")
        for _attempt in range(6):
            response = code_step(browser, wrong_code(secret, START))
        assert "Too many failed attempts" in response.content.decode()
        # The right code is not even looked at while locked.
        locked = code_step(browser, code_at(secret, START))
        assert "Too many failed attempts" in locked.content.decode()
        assert not is_signed_in(browser)
        clock.shift(timedelta(seconds=61))
        password_step(browser, "engineer")
        now = START + timedelta(seconds=61)
        assert code_step(browser, code_at(secret, now)).status_code == 302


def test_it_signs_in_with_a_recovery_code_once(world):
    _secret, codes = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False):
        through_both_steps("engineer", codes[3])
        again = HttpClient()
        password_step(again, "engineer")
        assert code_step(again, codes[3]).status_code == 200
        assert not is_signed_in(again)


def test_it_asks_for_the_password_again_when_the_code_comes_too_late(world):
    secret, _codes = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False) as clock:
        browser = HttpClient()
        password_step(browser, "engineer")
        clock.shift(timedelta(minutes=5, seconds=1))
        late = START + timedelta(minutes=5, seconds=1)
        response = code_step(browser, code_at(secret, late))
        assert response.status_code == 302 and response["Location"] == reverse("front:login")
        assert not is_signed_in(browser)


def test_it_does_not_take_a_session_that_skipped_the_code_step(world):
    enrolled(world.engineer, EARLIER)
    # A session made without the second step (here Django's test login) is signed out.
    browser = signed_in(world.engineer)
    response = browser.get(reverse("front:dashboard"))
    assert response.status_code == 302
    assert not is_signed_in(browser)


def test_it_takes_the_admin_through_the_code_step(world):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    secret, _codes = enrolled(root, EARLIER)
    with time_machine.travel(START, tick=False):
        browser = HttpClient()
        door = browser.get("/admin/", follow=True)
        assert door.redirect_chain[-1][0] == "/login/?next=%2Fadmin%2F"
        step = password_step(browser, "root", next_url="/admin/")
        assert step["Location"] == reverse("front:login_code")
        assert browser.get("/admin/").status_code == 302
        done = code_step(browser, code_at(secret, START))
        assert done["Location"] == "/admin/"
        assert browser.get("/admin/").status_code == 200


def test_it_enrols_on_the_profile_and_ends_the_other_sessions(world):
    _plain, raw = ApiToken.issue(world.engineer, "ci")
    with time_machine.travel(START, tick=False):
        other = signed_in(world.engineer)
        browser = signed_in(world.engineer)
        page = browser.get(reverse("front:two_factor"))
        html = page.content.decode()
        assert page.status_code == 200
        assert '<svg viewBox="0 0' in html and 'class="qr"' in html
        secret = TwoFactor.objects.get(user=world.engineer).secret
        spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        assert spaced in html
        refused = browser.post(reverse("front:two_factor"), {"code": wrong_code(secret, START)})
        assert "does not match" in refused.content.decode()
        done = browser.post(reverse("front:two_factor"), {"code": code_at(secret, START)})
        assert done.status_code == 200 and "no-store" in done["Cache-Control"]
        codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.content.decode())
        assert len(codes) == 10
        # This session goes on, the other one ends; API tokens keep working.
        profile = browser.get(reverse("front:profile"))
        assert profile.status_code == 200
        assert "10 recovery codes left." in profile.content.decode()
        assert other.get(reverse("front:profile")).status_code == 302
        assert ApiCaller(raw).get("/me").status_code == 200


def test_it_turns_off_with_the_password_and_ends_the_other_sessions(world):
    secret, _codes = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False):
        browser, other = (
            through_both_steps("engineer", code_at(secret, START + timedelta(seconds=30 * step)))
            for step in range(2)
        )
        refused = browser.post(
            reverse("front:two_factor_disable"), {"secret": "not-my-password"}, follow=True
        )
        assert "neither your password nor a valid code" in refused.content.decode()
        assert TwoFactor.objects.get(user=world.engineer).enabled
        done = browser.post(reverse("front:two_factor_disable"), {"secret": PASSWORD}, follow=True)
        assert "Two-factor sign-in is off" in done.content.decode()
        assert not TwoFactor.objects.get(user=world.engineer).enabled
        assert browser.get(reverse("front:profile")).status_code == 200
        assert other.get(reverse("front:profile")).status_code == 302


def test_it_makes_new_recovery_codes_with_a_code(world):
    secret, old = enrolled(world.engineer, EARLIER)
    with time_machine.travel(START, tick=False):
        browser = through_both_steps("engineer", code_at(secret, START))
        url = reverse("front:two_factor_recovery_codes")
        refused = browser.post(url, {"secret": "not-my-password"}, follow=True)
        assert "neither your password nor a valid code" in refused.content.decode()
        assert "10 recovery codes left." in refused.content.decode()
        later = START + timedelta(seconds=30)
        response = browser.post(url, {"secret": code_at(secret, later)})
        fresh = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", response.content.decode())
    assert len(fresh) == 10 and not set(fresh) & set(old)
