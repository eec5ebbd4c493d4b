"""Two-factor sign-in: TOTP codes (RFC 6238, 6 digits every 30 s) and one-time recovery codes.

A code is accepted for the time step it belongs to and one step either side (clocks drift),
and each time step's code only once: the accepted step is stored with a conditional UPDATE,
so even two web workers given the same code at the same moment accept it once. Recovery codes
are random, shown once and stored as keyed digests (``keyed``); each works once.
Turning two-factor sign-in on or off raises the user's session epoch, which ends the user's
other sessions (``tenancy.signin_state``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from urllib.parse import urlsplit

import pyotp
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q

from sitecare.lib.crypto import keyed_digest
from tenancy.models import Membership, RecoveryCode, TwoFactor

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after the current one are accepted too.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code is read off paper. 10 characters of 31 carry about 50 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


def record_of(user_id: int) -> TwoFactor | None:
    return TwoFactor.objects.filter(user_id=user_id).first()


def is_enabled(user_id: int) -> bool:
    record = record_of(user_id)
    return record is not None and record.enabled


def agency_members(organization_id: int) -> list[tuple[Membership, bool]]:
    """Each member of the agency (by user name), with whether two-factor sign-in is on."""
    members = list(
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user", "client")
        .order_by("user__username")
    )
    enabled = set(
        TwoFactor.objects.filter(
            user_id__in=[m.user_id for m in members], confirmed_at__isnull=False
        ).values_list("user_id", flat=True)
    )
    return [(member, member.user_id in enabled) for member in members]


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def start_enrolment(user: User) -> TwoFactor:
    """The record to enrol with: a new secret, or the one already shown (a reload keeps the
    QR code the user may have scanned). Raises ``ValueError`` when it is on already."""
    record, _created = TwoFactor.objects.get_or_create(user=user)
    if record.enabled:
        raise ValueError("two-factor sign-in is on already")
    if not record.secret:
        record.secret = pyotp.random_base32()
        record.save(update_fields=["secret"])
    return record


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    host = urlsplit(settings.SITECARE_BASE_URL).hostname or "sitecare"
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.get_username(), issuer_name=f"sitecare {host}"
    )


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step near ``now`` whose code ``code`` is, if any."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user_id: int, step: int) -> bool:
    """Record ``step`` as used, unless it (or a later one) was used already: no replays."""
    unused = Q(last_step__isnull=True) | Q(last_step__lt=step)
    return TwoFactor.objects.filter(unused, user_id=user_id).update(last_step=step) == 1


def normalize(code: str) -> str:
    """What the user typed, without spaces and dashes, lowercased."""
    return "".join(code.split()).replace("-", "").lower()


def keyed(plain_digest: str) -> str:
    """What is stored of a recovery code: a keyed digest of its SHA-256 (``keyed_digest``).

    About 50 bits per code could be tried offline against a plain hash in a day; keyed by a
    secret kept outside the database, a dump alone allows no such test. Hashing the SHA-256
    (rather than the code) let codes stored before as plain SHA-256 be converted in place
    (migration ``tenancy.0009_recovery_codes_keyed``).
    """
    return keyed_digest("tenancy.RecoveryCode.code_hash", plain_digest)


def _hash(code: str) -> str:
    return keyed(hashlib.sha256(normalize(code).encode()).hexdigest())


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    """Replace the user's recovery codes with fresh ones; the raw codes, grouped for reading."""
    raw = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_hash(code), created_at=now) for code in raw
    )
    half = RECOVERY_LENGTH // 2
    return [f"{code[:half]}-{code[half:]}" for code in raw]


def confirm_enrolment(user: User, code: str, now: datetime) -> list[str] | None:
    """Turn two-factor sign-in on if ``code`` matches the secret being enrolled.

    1. The pending secret must give ``code`` near ``now``; that step is claimed.
    2. The record is marked on and its session epoch raised (other sessions end).
    3. Ten fresh recovery codes replace any old ones; they are returned to be shown once.

    Returns None when the code does not match (or nothing is being enrolled).
    """
    with transaction.atomic():
        record = TwoFactor.objects.select_for_update().filter(user=user).first()
        if record is None or record.enabled or not record.secret:
            return None
        step = _matching_step(record.secret, normalize(code), now)
        if step is None or not _claim_step(user.pk, step):
            return None
        TwoFactor.objects.filter(user=user).update(
            confirmed_at=now, session_epoch=F("session_epoch") + 1
        )
        return _new_recovery_codes(user, now)


def disable(user: User) -> None:
    """Turn two-factor sign-in off: forget the secret and the recovery codes; other sessions
    end (the epoch is raised, the row kept)."""
    with transaction.atomic():
        TwoFactor.objects.filter(user=user).update(
            secret="", confirmed_at=None, last_step=None, session_epoch=F("session_epoch") + 1
        )
        RecoveryCode.objects.filter(user=user).delete()


def regenerate_recovery_codes(user: User, now: datetime) -> list[str]:
    """New recovery codes (the old ones stop working); only while two-factor sign-in is on."""
    if not is_enabled(user.pk):
        raise ValueError("two-factor sign-in is off")
    with transaction.atomic():
        return _new_recovery_codes(user, now)


def recovery_codes_left(user_id: int) -> int:
    return RecoveryCode.objects.filter(user_id=user_id, used_at__isnull=True).count()


def verify(user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` proves the second factor: a current TOTP code not used before, or an
    unused recovery code (used up by this call)."""
    record = record_of(user.pk)
    if record is None or not record.enabled:
        return False
    typed = normalize(code)
    step = _matching_step(record.secret, typed, now)
    if step is not None:
        return _claim_step(user.pk, step)
    if len(typed) != RECOVERY_LENGTH:
        return False
    unused = RecoveryCode.objects.filter(user=user, code_hash=_hash(typed), used_at__isnull=True)
    return unused.update(used_at=now) == 1
