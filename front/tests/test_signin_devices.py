"""Browsers that signed in to an account before carry a device cookie: someone else guessing
at the account name cannot lock them out, and guesses made through such a cookie are
throttled on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client as HttpClient
from django.urls import reverse

from front.tests.conftest import PASSWORD
from tenancy.devices import COOKIE_NAME
from tenancy.tests.test_two_factor import code_at, enrolled, wrong_code

START = datetime(2026, 3, 2, 8, 0, 10, tzinfo=UTC)
LOCKED = "Too many failed attempts"


def attempt(browser: HttpClient, username: str, password: str):
    return browser.post(reverse("front:login"), {"username": username, "password": password})


def known_browser(username: str, address: str = "198.51.100.20") -> HttpClient:
    """A browser that signed in to the account (and signed out again)."""
    browser = HttpClient(REMOTE_ADDR=address)
    assert attempt(browser, username, PASSWORD).status_code == 302
    assert COOKIE_NAME in browser.cookies
    browser.post(reverse("front:logout"))
    return browser


def lock_out_from_outside(username: str, guesses: int = 6) -> None:
    """Wrong passwords for the name, each from an address of its own (a botnet)."""
    for number in range(guesses):
        attempt(HttpClient(REMOTE_ADDR=f"203.0.113.{number + 1}"), username, f"guess-{number}")


def test_it_lets_a_browser_that_signed_in_before_past_a_lock_others_caused(world):
    with time_machine.travel(START, tick=False) as clock:
        mine = known_browser("owner")
        lock_out_from_outside("owner")
        stranger = HttpClient(REMOTE_ADDR="198.51.100.99")
        assert LOCKED in attempt(stranger, "owner", PASSWORD).content.decode()
        assert attempt(mine, "owner", PASSWORD).status_code == 302
        # Whoever keeps guessing keeps the lock on browsers without the cookie only.
        clock.shift(timedelta(minutes=1, seconds=1))
        mine.post(reverse("front:logout"))
        lock_out_from_outside("owner", guesses=1)
        assert LOCKED in attempt(stranger, "owner", PASSWORD).content.decode()
        assert attempt(mine, "owner", PASSWORD).status_code == 302


def test_it_throttles_guesses_through_a_device_cookie_on_that_cookie(world):
    with time_machine.travel(START, tick=False):
        mine = known_browser("owner")
        for number in range(5):
            attempt(mine, "owner", f"guess-{number}")
        assert LOCKED in attempt(mine, "owner", "guess-5").content.decode()
        assert LOCKED in attempt(mine, "owner", PASSWORD).content.decode()
        # The account name itself was not locked by them.
        assert (
            attempt(HttpClient(REMOTE_ADDR="198.51.100.30"), "owner", PASSWORD).status_code == 302
        )


def test_it_holds_a_cookie_of_another_account_or_an_altered_one_to_the_account_lock(world):
    with time_machine.travel(START, tick=False):
        theirs = known_browser("engineer")
        altered = known_browser("owner", address="198.51.100.21")
        value = altered.cookies[COOKIE_NAME].value
        altered.cookies[COOKIE_NAME] = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
        lock_out_from_outside("owner")
        assert LOCKED in attempt(theirs, "owner", PASSWORD).content.decode()
        assert LOCKED in attempt(altered, "owner", PASSWORD).content.decode()
        assert attempt(theirs, "engineer", PASSWORD).status_code == 302


def test_it_lets_a_known_browser_through_the_code_step_someone_with_the_password_locked(world):
    secret, _codes = enrolled(world.owner, START - timedelta(minutes=10))
    with time_machine.travel(START, tick=False):
        mine = HttpClient(REMOTE_ADDR="198.51.100.20")
        attempt(mine, "owner", PASSWORD)
        assert (
            mine.post(reverse("front:login_code"), {"code": code_at(secret, START)}).status_code
            == 302
        )
        mine.post(reverse("front:logout"))
        # Someone who learnt the password guesses codes from a browser of their own.
        thief = HttpClient(REMOTE_ADDR="203.0.113.50")
        attempt(thief, "owner", PASSWORD)
        for _guess in range(6):
            refused = thief.post(reverse("front:login_code"), {"code": wrong_code(secret, START)})
        assert LOCKED in refused.content.decode()
        later = START + timedelta(seconds=30)
    with time_machine.travel(later, tick=False):
        attempt(mine, "owner", PASSWORD)
        done = mine.post(reverse("front:login_code"), {"code": code_at(secret, later)})
        assert done.status_code == 302 and "_auth_user_id" in mine.session


def test_it_sets_a_long_lived_private_cookie_secure_when_cookies_are(world, settings):
    settings.SESSION_COOKIE_SECURE = True
    browser = HttpClient(REMOTE_ADDR="198.51.100.20")
    attempt(browser, "owner", PASSWORD)
    cookie = browser.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Strict"
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    assert "owner" not in cookie.value
