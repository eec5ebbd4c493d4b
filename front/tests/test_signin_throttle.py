"""Sign-in throttling: guessing a password stops after a few tries, per account name and per
client address, with a message saying when to try again; a complete sign-in forgets the count."""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client as HttpClient
from django.urls import reverse

from front.tests.conftest import PASSWORD

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))


def attempt(browser: HttpClient, username: str, password: str):
    return browser.post(reverse("front:login"), {"username": username, "password": password})


def signed_in(browser: HttpClient) -> bool:
    return "_auth_user_id" in browser.session


def error_text(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_it_refuses_the_right_password_after_30_wrong_ones_until_the_lock_ends(world):
    with time_machine.travel(START, tick=False) as clock:
        browser = HttpClient()
        for number in range(30):
            assert attempt(browser, "owner", f"guess-{number}").status_code == 200
        refused = attempt(browser, "owner", PASSWORD)
        assert refused.status_code == 200
        assert not signed_in(browser)
        # The sixth failure locked the name for a minute; the attempts after it went unchecked.
        assert error_text(refused) == (
            "Too many failed attempts. Please try again in 1 minute, at 09:01."
        )
        clock.shift(timedelta(seconds=59))
        assert "Too many" in error_text(attempt(browser, "owner", PASSWORD))
        assert not signed_in(browser)
        clock.shift(timedelta(seconds=2))
        accepted = attempt(browser, "owner", PASSWORD)
        assert accepted.status_code == 302
        assert signed_in(browser)


def test_it_says_the_same_for_an_account_that_does_not_exist(world):
    with time_machine.travel(START, tick=False):
        real = HttpClient(REMOTE_ADDR="192.0.2.1")
        ghost = HttpClient(REMOTE_ADDR="192.0.2.2")
        for number in range(5):
            attempt(real, "owner", f"guess-{number}")
            attempt(ghost, "nobody-by-this-name", f"guess-{number}")
        said_real = error_text(attempt(real, "owner", "guess-5"))
        said_ghost = error_text(attempt(ghost, "nobody-by-this-name", "guess-5"))
    assert said_real == said_ghost
    assert said_real == "Too many failed attempts. Please try again in 1 minute, at 09:01."


def test_it_locks_a_name_whatever_its_case_and_the_address_it_comes_from(world):
    with time_machine.travel(START, tick=False):
        for number in range(6):
            attempt(HttpClient(REMOTE_ADDR=f"192.0.2.{number + 1}"), "OWNER", f"guess-{number}")
        browser = HttpClient(REMOTE_ADDR="198.51.100.1")
        refused = attempt(browser, "owner", PASSWORD)
        assert "Too many failed attempts" in error_text(refused)
        assert not signed_in(browser)
        # Someone else's account from the same addresses is not held up.
        assert attempt(HttpClient(REMOTE_ADDR="192.0.2.1"), "engineer", PASSWORD).status_code == 302


def test_it_forgets_an_account_s_failures_when_it_signs_in(world):
    with time_machine.travel(START, tick=False):
        browser = HttpClient()
        for number in range(4):
            attempt(browser, "engineer", f"guess-{number}")
        assert attempt(browser, "engineer", PASSWORD).status_code == 302
        browser.post(reverse("front:logout"))
        for number in range(5):
            said = error_text(attempt(browser, "engineer", f"again-{number}"))
            assert said == "Your user name and password did not match. Please try again."
        assert "Too many failed attempts" in error_text(attempt(browser, "engineer", "again-5"))


def test_it_locks_an_address_that_tries_many_names(world):
    with time_machine.travel(START, tick=False):
        guesser = HttpClient(REMOTE_ADDR="203.0.113.7")
        for number in range(21):
            attempt(guesser, f"name-{number}", "guess")
        refused = attempt(guesser, "owner", PASSWORD)
        assert "Too many failed attempts" in error_text(refused)
        assert not signed_in(guesser)
        assert attempt(HttpClient(REMOTE_ADDR="203.0.113.8"), "owner", PASSWORD).status_code == 302


def test_it_counts_each_visitor_behind_a_trusted_proxy_on_its_own(world, settings):
    settings.SITECARE_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1/32"),)
    with time_machine.travel(START, tick=False):
        guesser = HttpClient(HTTP_X_FORWARDED_FOR="203.0.113.7")
        for number in range(21):
            attempt(guesser, f"name-{number}", "guess")
        assert "Too many" in error_text(attempt(guesser, "owner", PASSWORD))
        other = HttpClient(HTTP_X_FORWARDED_FOR="203.0.113.8")
        assert attempt(other, "owner", PASSWORD).status_code == 302


def test_it_logs_each_refused_attempt_without_the_password(world, caplog):
    caplog.set_level(logging.INFO, logger="sitecare.signin")
    with time_machine.travel(START, tick=False):
        browser = HttpClient(REMOTE_ADDR="192.0.2.50")
        for number in range(6):
            attempt(browser, "owner", f"secret-guess-{number}")
        attempt(browser, "owner", PASSWORD)
    refused = [r.getMessage() for r in caplog.records if "refused while locked" in r.getMessage()]
    assert len(refused) == 1
    assert "'owner'" in refused[0] and "192.0.2.50" in refused[0]
    assert "2026-03-02T08:01:00+00:00" in refused[0]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "secret-guess" not in logged and PASSWORD not in logged


def test_it_says_when_to_try_again_in_the_reader_s_language(world):
    with time_machine.travel(START, tick=False) as clock:
        browser = HttpClient(headers={"accept-language": "pl"})
        for number in range(6):
            attempt(browser, "owner", f"guess-{number}")
        clock.shift(timedelta(seconds=61))
        response = attempt(browser, "owner", "guess-6")
    # The seventh failure locks for two minutes, to 09:03:01: "at" rounds up to the minute.
    assert error_text(response) == (
        "Zbyt wiele nieudanych prób. Spróbuj ponownie za 2 minuty, o 09:04."
    )


def test_it_takes_back_the_count_of_every_right_attempt(world):
    with time_machine.travel(START, tick=False):
        office = HttpClient(REMOTE_ADDR="192.0.2.60")
        # Each attempt is counted before it is checked; the right ones take their count back,
        # so 25 colleagues signing in from one address lock nothing.
        for _colleague in range(25):
            assert attempt(office, "engineer", PASSWORD).status_code == 302
            office.post(reverse("front:logout"))
        for number in range(5):
            attempt(office, "owner", f"guess-{number}")
        # The sixth attempt earns a lock when it is counted; being right, it lifts it again.
        assert attempt(office, "owner", PASSWORD).status_code == 302


def test_it_logs_a_name_that_is_no_account_only_as_the_start_of_its_key(world, caplog):
    """People type a password into the name field: a name that is no account never reaches
    the log; its key's start finds the throttle row."""
    caplog.set_level(logging.INFO, logger="sitecare")
    typed = "Hunter2-my-password"
    with time_machine.travel(START, tick=False):
        browser = HttpClient(REMOTE_ADDR="192.0.2.51")
        for number in range(12):
            attempt(browser, typed, f"guess-{number}")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "refused while locked" in logged
    assert typed.casefold() not in logged.casefold()
    assert "an unknown name (key " in logged
