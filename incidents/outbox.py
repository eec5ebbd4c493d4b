"""The outbox's pacing rules, shared by every outbox table (alerts, status page mail).

A row is claimed for one attempt by a conditional UPDATE that counts the attempt and moves
``next_attempt_at`` past a lease, so another sender (or this one restarted after a crash)
leaves it alone while it is in flight; a failed attempt waits a doubling backoff.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

BACKOFF_CAP_SECONDS = 3600.0
# A send may spend its timeout on connecting and again on each read (SMTP talks several
# times), so the lease that keeps other senders away from a claimed row is a few timeouts
# long; a sender that dies mid-send leaves the row to be claimed again after it.
LEASE_TIMEOUTS = 4
# Every outbox table spells its waiting state the same way.
PENDING = "pending"


def backoff_seconds(attempts: int) -> float:
    """Delay before the next attempt after ``attempts`` failed ones: doubling, capped at 1 h."""
    base = settings.SITECARE_ALERT_BACKOFF_SECONDS
    # The exponent is bounded so a large attempt count cannot overflow a float.
    return float(min(base * 2 ** min(max(attempts - 1, 0), 40), BACKOFF_CAP_SECONDS))


def lease_seconds() -> float:
    return LEASE_TIMEOUTS * settings.SITECARE_ALERT_SEND_TIMEOUT


def claim_next(model: type[models.Model], now: datetime, ready: Q | None = None) -> int | None:
    """Claim the next due row of an outbox table for one attempt; its id, or None.

    1. Take the due pending rows (and ``ready``: a table's own ordering rule), the longest
       waiting first.
    2. Claim one by conditional UPDATE on the values just read: count the attempt and move
       ``next_attempt_at`` past the lease.
    3. Another sender may win the race: then try the next row.
    """
    rows = model._default_manager
    due = rows.filter(state=PENDING, next_attempt_at__lte=now)
    if ready is not None:
        due = due.filter(ready)
    due = due.order_by("next_attempt_at", "pk")
    lease_until = now + timedelta(seconds=lease_seconds())
    for pk, attempts, next_attempt_at in due.values_list("pk", "attempts", "next_attempt_at")[:10]:
        claimed = rows.filter(
            pk=pk, state=PENDING, attempts=attempts, next_attempt_at=next_attempt_at
        ).update(attempts=attempts + 1, next_attempt_at=lease_until)
        if claimed == 1:
            return int(pk)
    return None
