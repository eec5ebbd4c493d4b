"""Recovery codes stored before they were keyed keep working after the upgrade."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from sitecare.tests.migrating import rewound
from tenancy import two_factor
from tenancy.models import RecoveryCode

BEFORE = [("tenancy", "0008_signin_throttle_label")]
AFTER = [("tenancy", "0009_recovery_codes_keyed")]
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_it_keys_the_codes_stored_before_and_they_keep_working() -> None:
    with rewound(BEFORE) as database:
        old = database.apps
        owner = old.get_model("auth", "User").objects.create(username="anna")
        old.get_model("tenancy", "TwoFactor").objects.create(
            user_id=owner.pk, secret="", confirmed_at=NOW
        )
        plain = hashlib.sha256(b"abcde23456").hexdigest()
        old.get_model("tenancy", "RecoveryCode").objects.create(user_id=owner.pk, code_hash=plain)
        database.migrate(AFTER)
    assert RecoveryCode.objects.get().code_hash != plain
    anna = User.objects.get(username="anna")
    assert two_factor.verify(anna, "ABCDE-23456", NOW)
    assert not two_factor.verify(anna, "ABCDE-23456", NOW)
