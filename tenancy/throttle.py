"""Throttling of failed sign-ins (password, two-factor code) and of failed API tokens.

Each attempt counts against the account name typed and against the client's address, and it
is counted *before* it is checked (``begin``), in the same statement that refuses a locked
key, so attempts sent together cannot all slip in before the first of them is counted; a
right attempt takes its count back (``succeeded``). The first few failures cost nothing;
after them every further failure locks the name (or the address) for a period that doubles up
to a cap. While locked, attempts are refused without looking at the password, so guessing
stops. A quiet day forgets the count; a complete sign-in forgets the account's count (never
the address's: a second account of one's own must not wipe the slate for guessing at someone
else's).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When

from sitecare.lib.crypto import keyed_digest
from tenancy.models import SignInThrottle, ThrottleKind

logger = logging.getLogger("sitecare.signin")
# How much of an account name a row keeps for the operator (as long as a user name may be).
LABEL_LENGTH = 150
# Quiet rows deleted at most by an attempt that made new rows: bounded work on the sign-in path.
PURGE_BATCH = 200


@dataclass(frozen=True)
class Policy:
    free_failures: int  # failures before the first lock
    first_lock: timedelta
    longest_lock: timedelta
    forget_after: timedelta  # a quiet time after which the failures are forgotten


POLICIES = {
    # A person mistyping twice is not locked; a guesser gets about a hundred tries a day.
    ThrottleKind.ACCOUNT: Policy(5, timedelta(minutes=1), timedelta(minutes=15), timedelta(days=1)),
    # A browser that signed in to the account before (tenancy.devices): like the account.
    ThrottleKind.DEVICE: Policy(5, timedelta(minutes=1), timedelta(minutes=15), timedelta(days=1)),
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
    # The account name typed (casefolded), for an account or device key: kept on the row
    # only when an account by that name exists (``_label``), never in the key itself.
    name: str = field(default="", compare=False)


class SignInLocked(Exception):
    """Too many failures: nothing is checked until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds to wait, rounded up (at least 1), for ``Retry-After``."""
        return max(1, int(-(-(self.until - now).total_seconds() // 1)))


def account_key(username: str) -> ThrottleKey:
    """The key of an account name as typed: its keyed digest, casefolded so "Admin" is "admin".

    Keyed (``keyed_digest``), not a plain hash: what is typed as a name may be a password, and
    a plain hash of it in a dump could be tested against guesses offline.
    """
    name = username.strip().casefold()
    digest = keyed_digest("tenancy.SignInThrottle.account", name)
    return ThrottleKey(ThrottleKind.ACCOUNT, digest, name[:LABEL_LENGTH])


def device_key(device_id: str, username: str) -> ThrottleKey:
    """The key of a device that signed in to the account ``username`` before
    (``tenancy.devices``): its id's hash."""
    digest = hashlib.sha256(device_id.encode()).hexdigest()
    return ThrottleKey(ThrottleKind.DEVICE, digest, username.strip().casefold()[:LABEL_LENGTH])


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


@dataclass(frozen=True)
class Attempt:
    """An attempt counted against its keys before it was checked (see ``begin``)."""

    keys: tuple[ThrottleKey, ...]
    now: datetime
    # The lock each key got from counting this attempt (None: that key is not locked).
    locks: tuple[datetime | None, ...]

    @property
    def lock(self) -> datetime | None:
        """The latest lock this attempt started, if any: what a wrong one has to wait for."""
        return max((lock for lock in self.locks if lock is not None), default=None)


def _unlocked(now: datetime) -> Q:
    return Q(locked_until__isnull=True) | Q(locked_until__lte=now)


def _lock_after(policy: Policy, failures: int, now: datetime) -> datetime | None:
    lock = lock_for(policy, failures)
    return now + lock if lock else None


def _counted(policy: Policy, now: datetime) -> dict[str, Case]:
    """The column values of a row after one more failure, as SQL over its current values.

    A count older than ``forget_after`` starts again from one; the lock is what the new count
    earns under the policy, spelled out count by count up to the longest lock.
    """
    stale = Q(last_failure_at__lt=now - policy.forget_after)
    moment = DateTimeField(null=True)
    locks = [When(stale, then=Value(_lock_after(policy, 1, now), output_field=moment))]
    count = 1
    while lock_for(policy, count) < policy.longest_lock:
        # ``failures`` here is the value before this failure.
        then = Value(_lock_after(policy, count, now), output_field=moment)
        locks.append(When(failures=count - 1, then=then))
        count += 1
    return {
        "failures": Case(When(stale, then=Value(1)), default=F("failures") + 1),
        "locked_until": Case(*locks, default=Value(now + policy.longest_lock), output_field=moment),
    }


def _count_one(key: ThrottleKey, now: datetime) -> tuple[datetime | None, bool]:
    """Count an attempt against ``key`` unless it is locked: the lock it earns, if any, and
    whether the key's row was new.

    One conditional UPDATE counts and locks, so no two attempts can both see the key free
    and both be counted as the last one allowed. Raises ``SignInLocked`` when locked.
    """
    policy = POLICIES[key.kind]
    rows = SignInThrottle.objects.filter(kind=key.kind, key=key.key)
    for _race in range(2):
        if rows.filter(_unlocked(now)).update(**_counted(policy, now), last_failure_at=now):
            return rows.values_list("locked_until", flat=True).get(), False
        until = rows.values_list("locked_until", flat=True).first()
        if until is not None:
            raise SignInLocked(until)
        lock = _lock_after(policy, 1, now)
        try:
            with transaction.atomic():
                SignInThrottle.objects.create(
                    kind=key.kind,
                    key=key.key,
                    label=_label(key),
                    failures=1,
                    last_failure_at=now,
                    locked_until=lock,
                )
        except IntegrityError:
            continue  # another worker made the row at the same moment: count on it
        return lock, True
    raise RuntimeError(f"throttle row {key} neither updated nor created")


def logged_account(username: str) -> str:
    """The account name typed, as the log may show it: the account's user name when one exists,
    else only the start of its key (people type passwords into the name field; the key finds
    the throttle row without keeping the text)."""
    key = account_key(username)
    return _label(key) or f"an unknown name (key {key.key[:12]})"


def _label(key: ThrottleKey) -> str:
    """What the operator reads on the row: the user name of the account an account or device
    key is for, if such an account exists. A name that is no account is not kept (a password
    typed into the name field must not end up in the database); its row is found by
    searching for the exact name, whose key the admin works out."""
    if key.kind not in (ThrottleKind.ACCOUNT, ThrottleKind.DEVICE) or not key.name:
        return ""
    users = get_user_model()._default_manager
    found = users.filter(**{f"{get_user_model().USERNAME_FIELD}__iexact": key.name})
    return str(found.values_list(get_user_model().USERNAME_FIELD, flat=True).first() or "")


def purge_quiet(now: datetime, limit: int = PURGE_BATCH) -> int:
    """Delete up to ``limit`` rows quiet for longer than their kind forgets failures after,
    and not locked (such a row would count from zero anyway); how many went."""
    quiet = Q()
    for kind, policy in POLICIES.items():
        quiet |= Q(kind=kind, last_failure_at__lt=now - policy.forget_after)
    rows = SignInThrottle.objects.filter(quiet).filter(_unlocked(now))
    chosen = rows.order_by("last_failure_at").values("pk")[:limit]
    # One statement: DELETE … WHERE id IN (SELECT … LIMIT n).
    deleted, _by_model = SignInThrottle.objects.filter(pk__in=chosen).delete()
    return deleted


def begin(keys: list[ThrottleKey], now: datetime, *, what: str, who: str) -> Attempt:
    """Count an attempt as a failure against every key *before* it is checked.

    1. In one transaction, each key gets one more failure and the lock that count earns, by a
       conditional UPDATE that refuses a key still locked.
    2. If any key is locked, nothing is counted (the transaction is undone) and
       ``SignInLocked`` is raised (and logged): the attempt must not be checked.
    3. Otherwise the attempt may be checked; a right one is handed to ``succeeded``, which
       takes its count back, a wrong one to ``failed``.

    So attempts arriving together are counted one after another, and no more of them are
    checked than the policy allows; ``what`` and ``who`` only go to the log (e.g. "sign-in",
    "account 'anna' from 192.0.2.1").
    """
    try:
        with transaction.atomic():
            counted = [_count_one(key, now) for key in keys]
            if any(new for _lock, new in counted):
                # New rows are where the table grows: make room by forgetting quiet ones.
                purge_quiet(now)
    except SignInLocked as locked:
        logger.warning("%s refused while locked until %s: %s", what, locked.until.isoformat(), who)
        raise
    return Attempt(keys=tuple(keys), now=now, locks=tuple(lock for lock, _new in counted))


def succeeded(attempt: Attempt) -> None:
    """A right attempt: take back its count from every key, and lift the locks it started;
    a row left with no failures is deleted (a right attempt leaves no trace)."""
    for key, lock in zip(attempt.keys, attempt.locks, strict=True):
        rows = SignInThrottle.objects.filter(kind=key.kind, key=key.key)
        if lock is None:
            rows.filter(failures__gt=0).update(failures=F("failures") - 1)
        else:
            # Only this attempt's own lock is lifted: one that a later attempt started (after
            # this one's had ended) stays.
            lifted = Case(When(locked_until=lock, then=Value(None)), default=F("locked_until"))
            rows.filter(failures__gt=0).update(failures=F("failures") - 1, locked_until=lifted)
        rows.filter(_unlocked(attempt.now), failures=0).delete()


def failed(attempt: Attempt, *, what: str, who: str) -> None:
    """A wrong attempt (already counted by ``begin``): log it, and the lock it started."""
    if attempt.lock is not None:
        logger.warning("%s failed, locked until %s: %s", what, attempt.lock.isoformat(), who)
    else:
        logger.info("%s failed: %s", what, who)


def record_failure(keys: list[ThrottleKey], now: datetime, *, what: str, who: str) -> Attempt:
    """Count a failure known without a check (a wrong API token); ``SignInLocked`` if locked."""
    attempt = begin(keys, now, what=what, who=who)
    failed(attempt, what=what, who=who)
    return attempt


def forget(key: ThrottleKey) -> None:
    """A complete sign-in: the account's failures are forgotten."""
    SignInThrottle.objects.filter(kind=key.kind, key=key.key).delete()
