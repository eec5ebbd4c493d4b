"""Guessing API tokens: an address sending many wrong tokens gets 429 with Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client as HttpClient

from tenancy.models import ApiToken

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def call(token: str, address: str):
    return HttpClient(REMOTE_ADDR=address).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


def test_it_answers_429_with_retry_after_to_an_address_guessing_tokens(world):
    _token, raw = ApiToken.issue(world.engineer, "ci")
    with time_machine.travel(START, tick=False) as clock:
        for number in range(11):
            assert call(f"sc_guess{number}", "192.0.2.9").status_code == 401
        # The eleventh wrong token locked the address for a minute: now even a right one is
        # refused unchecked.
        refused = call(raw, "192.0.2.9")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "60"
        assert "Too many wrong tokens" in refused.json()["detail"]
        # Other addresses are not held up.
        assert call(raw, "192.0.2.10").status_code == 200
        clock.shift(timedelta(seconds=30))
        assert call(raw, "192.0.2.9").headers["Retry-After"] == "30"
        clock.shift(timedelta(seconds=31))
        assert call(raw, "192.0.2.9").status_code == 200
        # The next wrong token doubles the lock.
        assert call("sc_guess-again", "192.0.2.9").status_code == 401
        assert call(raw, "192.0.2.9").headers["Retry-After"] == "120"
