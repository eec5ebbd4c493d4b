"""The order of an incident's alerts on one channel: nobody hears "resolved" before "opened".

An incident's notifications to one channel form a chain, in the order they were written
(opened, escalated, resolved…). The sender keeps four rules over each chain:

1. **In order.** A notification is not claimed while an earlier one of its chain still waits
   (pending, maybe backing off): a retried "opened" goes out before the "resolved" written
   after it, never after. A claimed one whose predecessor was queued again meanwhile is put
   back, not sent.
2. **Nothing after a gap.** When an earlier one of its chain failed for good, a notification
   is held back, not sent: it is failed too, visibly, saying why (one conditional UPDATE, so
   a predecessor queued again at that moment is never skipped).
3. **Filled when the channel works again.** When a failing channel recovers
   (:func:`incidents.channel_health.end_failing`), what failed *during that failing episode*
   is sent again, once each and in order, where the news still means something: the incident
   is still open, or the channel had already received part of its story (it was told the
   incident opened, or was paged), so the rest, "resolved", is owed. An incident that opened
   and resolved while the channel was down is told neither: both stay failed, visibly, on the
   incident and channel pages. Failures of earlier episodes are history, never resent.
4. **No stale pages.** A page ("please acknowledge") is sent again only while its incident is
   open and unacknowledged; otherwise it is marked superseded, and the rest of its chain (the
   all-clear to someone who was paged before) goes on without it.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from incidents.models import EventKind, IncidentState, Notification, NotificationState
from sitecare.lib import messages
from sitecare.lib.messages import deferred as _

ERROR_CHARS = 500  # Notification.last_error's size


def _chain_before(state: str) -> Exists:
    """Whether an earlier notification of the row's chain is in ``state`` (for filters)."""
    return Exists(
        Notification.objects.filter(
            channel_id=OuterRef("channel_id"),
            incident_id=OuterRef("incident_id"),
            state=state,
            pk__lt=OuterRef("pk"),
        )
    )


def ready() -> Q:
    """Notifications no earlier notification of their chain waits before (rule 1).

    A notification without incident (an owner notice) has no chain: NULL never equals NULL.
    """
    return ~Q(_chain_before(NotificationState.PENDING))


def waiting_before(notification: Notification) -> bool:
    """True when an earlier notification of its chain waits (queued again after the claim)."""
    return (
        notification.incident_id is not None
        and Notification.objects.filter(pk=notification.pk)
        .filter(_chain_before(NotificationState.PENDING))
        .exists()
    )


def hold_back(notification: Notification, now: datetime) -> bool:
    """Fail a claimed notification without sending it when an earlier one of its chain failed
    for good (rule 2); True if it was held back. The check and the write are one UPDATE."""
    if notification.incident_id is None:
        return False
    held = (
        Notification.objects.filter(pk=notification.pk, state=NotificationState.PENDING)
        .filter(_chain_before(NotificationState.FAILED))
        .update(
            state=NotificationState.FAILED,
            failed_at=now,
            **messages.columns("last_error", held_back_error(), ERROR_CHARS),
        )
    )
    return held == 1


def held_back_error() -> str:
    return _(
        "Held back: an earlier alert of this incident did not reach this channel. It goes "
        "out, in order, once the channel works again if the incident is still open."
    )


def put_back(notification: Notification, now: datetime) -> None:
    """Undo a claim (rule 1): the attempt is not counted, and the row is due as before."""
    Notification.objects.filter(
        pk=notification.pk,
        state=NotificationState.PENDING,
        attempts=notification.attempts,
    ).update(attempts=notification.attempts - 1, next_attempt_at=now)


def resend_after_recovery(channel_id: int, since: datetime, now: datetime) -> int:
    """Queue again what a recovered channel missed in its failing episode (rules 3 and 4);
    returns how many notifications will go out.

    1. Take the channel's notifications of an incident that failed for good since ``since``
       (the start of the episode that is ending).
    2. Mark the pages among them that no longer ask anything superseded.
    3. Of the rest, keep the chains whose incident is open, or of which the channel received
       a part, and put them back in the queue, due now with fresh attempts: rule 1 sends
       them in order.
    """
    failed = Notification.objects.filter(
        channel_id=channel_id,
        state=NotificationState.FAILED,
        incident__isnull=False,
        failed_at__gte=since,
    )
    still_asking = Q(incident__state=IncidentState.OPEN, incident__acknowledged_at__isnull=True)
    failed.filter(event=EventKind.ESCALATED).exclude(still_asking).update(
        state=NotificationState.SUPERSEDED,
        **messages.columns(
            "last_error",
            _("Not sent again: the incident was acknowledged or resolved meanwhile."),
            ERROR_CHARS,
        ),
    )
    told_part = Exists(
        Notification.objects.filter(
            channel_id=channel_id,
            incident_id=OuterRef("incident_id"),
            state=NotificationState.DELIVERED,
        )
    )
    owed = failed.filter(Q(incident__state=IncidentState.OPEN) | Q(told_part))
    return owed.update(
        state=NotificationState.PENDING,
        attempts=0,
        next_attempt_at=now,
        failed_at=None,
        **messages.columns("last_error", "", ERROR_CHARS),
    )
