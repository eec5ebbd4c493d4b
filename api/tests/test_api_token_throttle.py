"""Guessing API tokens: an address sending many wrong tokens gets 429 with Retry-After for
every further wrong one, while a right token from it still works (tokens carry 256 random
bits: letting a right one through helps no guesser, and refusing it locked out every script
on the host of one script holding a revoked token)."""

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


def test_it_answers_429_to_wrong_tokens_from_a_guessing_address_but_lets_right_ones_in(world):
    _token, raw = ApiToken.issue(world.engineer, "ci")
    _kept, kept = ApiToken.issue(world.owner, "backup", survives_password_change=True)
    with time_machine.travel(START, tick=False) as clock:
        for number in range(11):
            assert call(f"sc_guess{number}", "192.0.2.9").status_code == 401
        # The eleventh wrong token locked the address for a minute.
        refused = call("sc_guess-more", "192.0.2.9")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "60"
        assert "Too many wrong tokens" in refused.json()["detail"]
        # Right tokens from it are checked and let in all the same.
        assert call(raw, "192.0.2.9").status_code == 200
        assert call(kept, "192.0.2.9").status_code == 200
        # A refused wrong token does not lengthen the lock.
        clock.shift(timedelta(seconds=30))
        assert call("sc_guess-more", "192.0.2.9").headers["Retry-After"] == "30"
        clock.shift(timedelta(seconds=31))
        # The lock ended; the right tokens did not clear the count: the next wrong one doubles it.
        assert call("sc_guess-again", "192.0.2.9").status_code == 401
        assert call("sc_guess-again", "192.0.2.9").headers["Retry-After"] == "120"
        # Other addresses are not held up.
        assert call("sc_guess-elsewhere", "192.0.2.10").status_code == 401


def test_it_documents_the_429_of_every_operation_that_takes_a_token(client):
    schema = client.get("/api/v1/openapi.json").json()
    operations = [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    ]
    assert len(operations) > 50
    for method, path, operation in operations:
        for status in ("401", "429"):
            documented = operation["responses"].get(status)
            assert documented is not None, (method, path, status)
            assert documented["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }
