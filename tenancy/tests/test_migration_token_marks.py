"""Tokens issued before they were tied to a password keep working after the upgrade, and a
later password change revokes them like any other."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from sitecare.tests.migrating import rewound
from tenancy.models import ApiToken, hash_token

BEFORE = [("tenancy", "0006_signin_throttle_device")]
AFTER = [("tenancy", "0007_api_token_password_mark")]
RAW = "sc_issued-before-marks-existed"


@pytest.mark.django_db(transaction=True)
def test_it_ties_existing_tokens_to_their_owner_s_password_as_it_is() -> None:
    with rewound(BEFORE) as database:
        old = database.apps
        owner = old.get_model("auth", "User").objects.create(
            username="anna", password=make_password("correct-horse-battery-9")
        )
        old.get_model("tenancy", "ApiToken").objects.create(
            user_id=owner.pk, name="script", token_hash=hash_token(RAW), hint=RAW[:9]
        )
        database.migrate(AFTER)
    assert ApiToken.holding(RAW) is not None
    User.objects.filter(username="anna").update(password=make_password("another-one-77"))
    assert ApiToken.holding(RAW) is None
    assert not ApiToken.objects.exists()
