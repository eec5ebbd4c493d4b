"""The order of an incident's alerts on one channel: nobody hears "resolved" before "opened".

An incident's notifications to one channel form a chain, in the order they were written
(opened, escalated, resolved…). The sender keeps three rules over each chain:

1. **In order.** A notification is not claimed while an earlier one of its chain still waits
   (pending, maybe backing off): a retried "opened" goes out before the "resolved" written
   after it, never after.
2. **Nothing after a gap.** When an earlier one of its chain failed for good, a notification
   is held back, not sent: it is failed too, visibly, saying why.
3. **Filled when the channel works again.** When a failing channel recovers
   (:func:`incidents.channel_health.end_failing`), the failed chains are sent again, once
   each and in order, where the news still means something: the incident is still open, or
   the channel had already received part of its story (it was told the incident opened, or
   was paged), so the rest, "resolved", is owed. An incident that opened and resolved while
   the channel was down is told neither: both stay failed, visibly, on the incident and
   channel pages.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from incidents.models import IncidentState, Notification, NotificationState


def ready() -> Q:
    """Notifications no earlier notification of their chain waits before (rule 1).

    A notification without incident (an owner notice) has no chain: NULL never equals NULL.
    """
    waiting_before = Notification.objects.filter(
        channel_id=OuterRef("channel_id"),
        incident_id=OuterRef("incident_id"),
        state=NotificationState.PENDING,
        pk__lt=OuterRef("pk"),
    )
    return ~Q(Exists(waiting_before))


def gap_before(notification: Notification) -> bool:
    """True when an earlier notification of its chain failed for good (rule 2)."""
    if notification.incident_id is None:
        return False
    return Notification.objects.filter(
        channel_id=notification.channel_id,
        incident_id=notification.incident_id,
        state=NotificationState.FAILED,
        pk__lt=notification.pk,
    ).exists()


def resend_after_recovery(channel_id: int, now: datetime) -> int:
    """Make the failed chains of a recovered channel due again where still meaningful
    (rule 3); returns how many notifications will go out.

    1. Take the channel's failed notifications that belong to an incident.
    2. Keep the chains whose incident is open, or of which the channel received a part.
    3. Put those back in the queue, due now with fresh attempts: rule 1 sends them in order.
    """
    failed = Notification.objects.filter(
        channel_id=channel_id, state=NotificationState.FAILED, incident__isnull=False
    )
    told_part = Notification.objects.filter(
        channel_id=channel_id,
        incident_id=OuterRef("incident_id"),
        state=NotificationState.DELIVERED,
    )
    owed = failed.filter(Q(incident__state=IncidentState.OPEN) | Q(Exists(told_part)))
    return owed.update(
        state=NotificationState.PENDING, attempts=0, next_attempt_at=now, last_error=""
    )
