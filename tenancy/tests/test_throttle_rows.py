"""The throttle's rows: readable for the operator without keeping what people typed, and
forgotten once quiet, a little at a time, so the table does not grow for good."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from tenancy import throttle
from tenancy.models import SignInThrottle, ThrottleKind

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def fail(*keys: throttle.ThrottleKey, at: datetime = NOW) -> None:
    throttle.record_failure(list(keys), at, what="test", who="test")


def test_it_names_the_account_of_a_row_only_when_the_account_exists(world):
    fail(throttle.account_key(" Engineer "), throttle.address_key("192.0.2.7"))
    fail(throttle.account_key("hunter2-typed-as-a-name"))
    labels = dict(SignInThrottle.objects.values_list("kind", "label").filter(kind="address"))
    assert labels == {ThrottleKind.ADDRESS: ""}
    by_key = dict(SignInThrottle.objects.filter(kind="account").values_list("key", "label"))
    assert by_key == {
        throttle.account_key("engineer").key: "engineer",
        throttle.account_key("hunter2-typed-as-a-name").key: "",
    }
    assert not SignInThrottle.objects.filter(key__icontains="hunter2").exists()


def test_it_keeps_no_hash_of_a_name_typed_that_a_dump_could_test_guesses_against(db, settings):
    """What is typed as a name may be a password: its key depends on a key kept outside the
    database, as the recovery codes' digests do."""
    typed = "hunter2-typed-as-a-name"
    fail(throttle.account_key(typed))
    key = SignInThrottle.objects.get(kind=ThrottleKind.ACCOUNT).key
    assert key not in {hashlib.sha256(typed.encode()).hexdigest(), typed}
    settings.SITECARE_ENCRYPTION_KEY = "another-key-than-this-install-s"
    assert throttle.account_key(typed).key != key


def test_it_forgets_quiet_rows_a_bounded_number_at_a_time(db):
    long_ago = NOW - timedelta(days=2)
    SignInThrottle.objects.bulk_create(
        SignInThrottle(
            kind=ThrottleKind.ADDRESS, key=f"198.51.100.{n}", failures=3, last_failure_at=long_ago
        )
        for n in range(250)
    )
    # Quiet for a day but still locked (an address's lock can outlast its last failure only
    # within its forget period, but a row written by hand may not): kept until it ends.
    SignInThrottle.objects.create(
        kind=ThrottleKind.ACCOUNT,
        key="locked",
        failures=9,
        last_failure_at=long_ago,
        locked_until=NOW + timedelta(minutes=5),
    )
    SignInThrottle.objects.create(
        kind=ThrottleKind.ADDRESS,
        key="203.0.113.1",
        failures=1,
        last_failure_at=NOW - timedelta(hours=20),
    )
    fail(throttle.address_key("203.0.113.2"))
    assert SignInThrottle.objects.filter(last_failure_at=long_ago).count() == 250 + 1 - 200
    fail(throttle.address_key("203.0.113.3"))
    remaining = set(SignInThrottle.objects.values_list("key", flat=True))
    assert remaining == {"locked", "203.0.113.1", "203.0.113.2", "203.0.113.3"}
    # Counting on an existing row adds nothing, so it deletes nothing either.
    assert throttle.purge_quiet(NOW) == 0


def test_it_makes_room_once_an_attempt_in_one_statement(db, django_assert_num_queries):
    long_ago = NOW - timedelta(days=2)
    SignInThrottle.objects.bulk_create(
        SignInThrottle(
            kind=ThrottleKind.ADDRESS, key=f"198.51.100.{n}", failures=3, last_failure_at=long_ago
        )
        for n in range(3)
    )
    # The attempt's savepoint and its release; for each of the two keys the UPDATE that finds
    # no row, the look for a lock, the new row in a savepoint of its own; the name's label;
    # then one DELETE of quiet rows for the attempt, not a SELECT and a DELETE per new row.
    with django_assert_num_queries(2 + 2 * 5 + 1 + 1):
        fail(throttle.account_key("nobody"), throttle.address_key("192.0.2.7"))
    assert not SignInThrottle.objects.filter(last_failure_at=long_ago).exists()


def test_it_leaves_no_row_behind_a_right_attempt(world):
    keys = [throttle.account_key("owner"), throttle.address_key("192.0.2.7")]
    throttle.succeeded(throttle.begin(keys, NOW, what="test", who="test"))
    assert not SignInThrottle.objects.exists()
    fail(*keys)
    throttle.succeeded(throttle.begin(keys, NOW, what="test", who="test"))
    assert sorted(SignInThrottle.objects.values_list("failures", flat=True)) == [1, 1]
