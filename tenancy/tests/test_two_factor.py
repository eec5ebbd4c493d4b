"""Two-factor sign-in, the domain: real TOTP codes computed from the secret at pinned times."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pyotp
from django.db import connection

from conftest import make_user
from tenancy import two_factor
from tenancy.models import Organization, RecoveryCode, Role, TwoFactor

START = datetime(2026, 3, 2, 8, 0, 10, tzinfo=UTC)


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def wrong_code(secret: str, when: datetime) -> str:
    """Six digits that are none of the codes accepted at ``when``."""
    near = {code_at(secret, when + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1000) if f"{n:06d}" not in near)


def enrolled(user, when: datetime = START) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for ``user`` with the code of ``when``: secret, recovery codes."""
    record = two_factor.start_enrolment(user)
    codes = two_factor.confirm_enrolment(user, code_at(record.secret, when), when)
    assert codes is not None
    return record.secret, codes


def test_it_turns_on_only_with_a_code_of_the_secret_being_enrolled(world):
    user = world.engineer
    record = two_factor.start_enrolment(user)
    # A reload of the enrolment page shows the same secret (the QR code may be scanned).
    assert two_factor.start_enrolment(user).secret == record.secret
    assert two_factor.confirm_enrolment(user, wrong_code(record.secret, START), START) is None
    assert not two_factor.is_enabled(user.pk)
    codes = two_factor.confirm_enrolment(user, code_at(record.secret, START), START)
    assert codes is not None and len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.is_enabled(user.pk)
    assert TwoFactor.objects.get(user=user).session_epoch == 1


def test_it_keeps_the_secret_encrypted_at_rest(world):
    secret, _codes = enrolled(world.engineer)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM tenancy_twofactor WHERE user_id = %s", [world.engineer.pk]
        )
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:")
    assert secret not in stored


def test_it_refuses_a_code_used_once_already_and_older_ones(world):
    user = world.engineer
    secret, _codes = enrolled(user, START - timedelta(minutes=5))
    now = START
    code = code_at(secret, now)
    assert two_factor.verify(user, code, now)
    # The same code, again within its 30 s (and the drift either side): refused.
    assert not two_factor.verify(user, code, now)
    assert not two_factor.verify(user, code, now + timedelta(seconds=15))
    # The next step's code is fine; after it, the previous step's code no longer is.
    later = now + timedelta(seconds=30)
    assert two_factor.verify(user, code_at(secret, later), later)
    assert not two_factor.verify(user, code_at(secret, now), later)


def test_it_allows_one_step_of_clock_drift_and_no_more(world):
    user = world.engineer
    secret, _codes = enrolled(user, START - timedelta(minutes=5))
    assert not two_factor.verify(user, code_at(secret, START - timedelta(seconds=60)), START)
    assert two_factor.verify(user, code_at(secret, START - timedelta(seconds=30)), START)
    assert not two_factor.verify(user, code_at(secret, START + timedelta(seconds=60)), START)
    assert two_factor.verify(user, code_at(secret, START + timedelta(seconds=30)), START)


def test_it_takes_each_recovery_code_once_and_stores_only_its_hash(world):
    user = world.engineer
    _secret, codes = enrolled(user)
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    # Typed loosely: spaces, no dash, capitals.
    assert two_factor.verify(user, " " + codes[0].replace("-", "").upper() + " ", START)
    assert not two_factor.verify(user, codes[0], START)
    assert two_factor.recovery_codes_left(user.pk) == 9
    fresh = two_factor.regenerate_recovery_codes(user, START)
    assert not two_factor.verify(user, codes[1], START)
    assert two_factor.verify(user, fresh[1], START)
    assert two_factor.recovery_codes_left(user.pk) == 9


def test_it_keeps_recovery_codes_under_a_key_that_is_not_in_the_database(world, settings):
    user = world.engineer
    _secret, codes = enrolled(user)
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    # A dump alone gives nothing to test guesses against: no plain hash of any code is kept.
    plain = [hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes]
    assert not stored.intersection(plain)
    # What is kept depends on a key that lives outside the database.
    assert stored == {two_factor.keyed(digest) for digest in plain}
    settings.SITECARE_ENCRYPTION_KEY = "another-key-than-this-install-s"
    assert not stored.intersection(two_factor.keyed(digest) for digest in plain)


def test_it_turns_off_forgetting_the_secret_and_codes_and_raising_the_epoch(world):
    user = world.engineer
    secret, codes = enrolled(user)
    two_factor.disable(user)
    record = TwoFactor.objects.get(user=user)
    assert not record.enabled and record.secret == "" and record.session_epoch == 2
    assert not RecoveryCode.objects.filter(user=user).exists()
    later = START + timedelta(minutes=1)
    assert not two_factor.verify(user, code_at(secret, later), later)
    assert not two_factor.verify(user, codes[0], later)
    # Enrolling again starts with a new secret.
    assert two_factor.start_enrolment(user).secret != secret


def test_it_lists_the_members_of_one_agency_with_their_two_factor_sign_in(world):
    enrolled(world.engineer)
    other = Organization.objects.create(name="Other", slug="other")
    make_user("stranger", other, Role.OWNER)
    listed = [
        (member.user.username, on) for member, on in two_factor.agency_members(world.agency.pk)
    ]
    assert listed == [("alice", False), ("bob", False), ("engineer", True), ("owner", False)]
