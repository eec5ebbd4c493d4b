"""Throttling of failed sign-ins (password, two-factor code) and of failed API tokens.

Each failure counts against the account name typed and against the client's address. The
first few failures cost nothing; after them every further failure locks the name (or the
address) for a period that doubles up to a cap. While locked, attempts are refused without
looking at the password, so guessing stops. A quiet day forgets the count; a complete sign-in
forgets the account's count (never the address's: a second account of one's own must not
wipe the slate for guessing at someone else's).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from tenancy.models import SignInThrottle, ThrottleKind

logger = logging.getLogger("sitecare.signin")


@dataclass(frozen=True)
class Policy:
    free_failures: int  # failures before the first lock
    first_lock: timedelta
    longest_lock: timedelta
    forget_after: timedelta  # a quiet time after which the failures are forgotten


POLICIES = {
    # A person mistyping twice is not locked; a guesser gets about a hundred tries a day.
    ThrottleKind.ACCOUNT: Policy(5, timedelta(minutes=1), timedelta(minutes=15), timedelta(days=1)),
    # An office behind one address has many people: more room, but a longer cap.
    ThrottleKind.ADDRESS: Policy(20, timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)),
    ThrottleKind.TOKEN_ADDRESS: Policy(
        10, timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
    ),
}


@dataclass(frozen=True)
class ThrottleKey:
    kind: ThrottleKind
    key: str


class SignInLocked(Exception):
    """Too many failures: nothing is checked until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds to wait, rounded up (at least 1), for ``Retry-After``."""
        return max(1, int(-(-(self.until - now).total_seconds() // 1)))


def account_key(username: str) -> ThrottleKey:
    """The key of an account name as typed: its hash, casefolded so "Admin" is "admin"."""
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    return ThrottleKey(ThrottleKind.ACCOUNT, digest)


def address_key(address: str, kind: ThrottleKind = ThrottleKind.ADDRESS) -> ThrottleKey:
    """The key of a client address; an IPv6 address counts as its /64 (one host has them all)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return ThrottleKey(kind, address[:64])
    if parsed.version == 6:
        return ThrottleKey(kind, str(ipaddress.ip_network(f"{parsed}/64", strict=False)))
    return ThrottleKey(kind, str(parsed))


def lock_for(policy: Policy, failures: int) -> timedelta:
    """How long the ``failures``-th failure locks: nothing, then doubling up to the cap."""
    over = failures - policy.free_failures
    if over <= 0:
        return timedelta(0)
    # Past 2**20 the cap has long been reached; bounding the exponent keeps the number small.
    return min(policy.first_lock * 2 ** min(over - 1, 20), policy.longest_lock)


def locked_until(keys: list[ThrottleKey], now: datetime) -> datetime | None:
    """The latest lock among ``keys`` still running at ``now`` (None when none is)."""
    if not keys:
        return None
    match = Q()
    for key in keys:
        match |= Q(kind=key.kind, key=key.key)
    locks = SignInThrottle.objects.filter(match, locked_until__gt=now).order_by("-locked_until")
    return locks.values_list("locked_until", flat=True).first()


def check(keys: list[ThrottleKey], now: datetime, *, what: str, who: str) -> None:
    """Raise ``SignInLocked`` (and log the refused attempt) if any of ``keys`` is locked.

    ``what`` and ``who`` only go to the log (e.g. "sign-in", "account 'anna' from 192.0.2.1").
    """
    until = locked_until(keys, now)
    if until is not None:
        logger.warning("%s refused while locked until %s: %s", what, until.isoformat(), who)
        raise SignInLocked(until)


def _count(key: ThrottleKey, now: datetime) -> datetime | None:
    """Count one failure against ``key``; return the lock it earns, if any."""
    policy = POLICIES[key.kind]
    with transaction.atomic():
        row = SignInThrottle.objects.select_for_update().filter(kind=key.kind, key=key.key).first()
        if row is None:
            row = SignInThrottle(kind=key.kind, key=key.key, failures=0, last_failure_at=now)
        elif now - row.last_failure_at > policy.forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        lock = lock_for(policy, row.failures)
        row.locked_until = now + lock if lock else None
        row.save()
    return row.locked_until


def record_failure(keys: list[ThrottleKey], now: datetime, *, what: str, who: str) -> None:
    """Count a failed attempt against every key; log it, and the lock it starts if any."""
    ends = []
    for key in keys:
        try:
            end = _count(key, now)
        except IntegrityError:
            # Another worker created the row at the same moment: count on it.
            end = _count(key, now)
        if end is not None:
            ends.append(end)
    if ends:
        logger.warning("%s failed, locked until %s: %s", what, max(ends).isoformat(), who)
    else:
        logger.info("%s failed: %s", what, who)


def forget(key: ThrottleKey) -> None:
    """A complete sign-in: the account's failures are forgotten."""
    SignInThrottle.objects.filter(kind=key.kind, key=key.key).delete()
