"""A channel's failing episodes: marked when a notification runs out of attempts there, told
to the agency's owners through the agency's other working channels, ended by a success.

1. A notification that used all ``SITECARE_ALERT_MAX_ATTEMPTS`` is failed (visibly, kept) and
   its channel gets ``failing_since`` — once: the conditional UPDATE that sets it starts the
   episode, and only that call writes the owner notice.
2. The notice is one outbox row per other working channel of the agency (agency-wide or an
   owner's personal one; enabled, not failing), keyed by failing channel, episode, recipient.
   With no such channel the notice is the red banner on the channel pages; nothing is lost.
3. The next delivery on the channel, or a successful "send test", ends the episode and makes
   its waiting notifications due now; each goes out once, under its own dedup key. The
   failed ones of incidents still open (or of which the channel got a part) go out again,
   in order (:mod:`incidents.alert_order`).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents import alert_order
from incidents.models import Channel, EventKind, Notification, NotificationState
from tenancy.models import Role


def start_failing(channel: Channel, now: datetime, error: str) -> list[Notification]:
    """Mark the channel failing and queue the owner notice; [] when already failing."""
    started = Channel.objects.filter(pk=channel.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    if started != 1:
        return []
    return notify_owners(channel, now, error)


def notice_recipients(channel: Channel) -> list[Channel]:
    """The agency's other working channels an owner notice may go to.

    Agency-wide channels and the owners' personal ones; never a client's channel (clients
    must not read about the agency's plumbing) and never one that is failing itself.
    """
    agency_wide = Q(client__isnull=True, site__isnull=True, user__isnull=True)
    owners = Q(user__membership__role=Role.OWNER)
    return list(
        Channel.objects.filter(
            agency_wide | owners,
            organization_id=channel.organization_id,
            enabled=True,
            failing_since__isnull=True,
        )
        .exclude(pk=channel.pk)
        .order_by("pk")
    )


def notice_key(channel: Channel, since: datetime, recipient: Channel) -> str:
    return f"sitecare-channel-{channel.pk}-failing-{since:%Y%m%dT%H%M%S}-channel-{recipient.pk}"


def notify_owners(channel: Channel, now: datetime, error: str) -> list[Notification]:
    """Write the notice that ``channel`` fails to each recipient channel (one row each)."""
    recipients = notice_recipients(channel)
    if not recipients:
        return []
    waiting = Notification.objects.filter(channel=channel, state=NotificationState.PENDING).count()
    with translation.override(channel.organization.language):
        title = _("[sitecare] Alert channel “%(channel)s” is failing") % {"channel": channel.name}
        lines = [
            _(
                "Alerts to the channel “%(channel)s” could not be delivered after "
                "%(attempts)d attempts: %(error)s"
            )
            % {
                "channel": channel.name,
                "attempts": settings.SITECARE_ALERT_MAX_ATTEMPTS,
                "error": error,
            },
            ngettext(
                "%(count)d more alert waits for it and is sent once the channel works again.",
                "%(count)d more alerts wait for it and are sent once the channel works again.",
                waiting,
            )
            % {"count": waiting},
            _("Check it and send a test message: %(link)s")
            % {"link": f"{settings.SITECARE_BASE_URL}/channels/{channel.pk}/"},
        ]
    rows = [
        Notification(
            channel=recipient,
            incident=None,
            event=EventKind.CHANNEL_FAILING,
            dedup_key=notice_key(channel, now, recipient),
            title=title[:300],
            body="\n".join(lines),
            next_attempt_at=now,
            created_at=now,
        )
        for recipient in recipients
    ]
    return Notification.objects.bulk_create(rows, ignore_conflicts=True)


def owner_notices(channel: Channel) -> list[Notification]:
    """The notices of the channel's current failing episode (none: the banner is the notice)."""
    if channel.failing_since is None:
        return []
    prefix = f"sitecare-channel-{channel.pk}-failing-{channel.failing_since:%Y%m%dT%H%M%S}-"
    return list(
        Notification.objects.filter(dedup_key__startswith=prefix)
        .select_related("channel")
        .order_by("pk")
    )


def end_failing(channel_id: int, now: datetime, *, leased_until: datetime) -> int:
    """End a failing episode after a success; make its waiting notifications due now.

    Rows due before ``leased_until`` (the sender's lease horizon) keep their time: one of
    them may be in flight right now, and pulling it forward could send it twice. What failed
    during the episode and is still owed is queued again
    (:func:`alert_order.resend_after_recovery`). Only the alert sender calls this (after a
    delivery, or for a channel a test proved working: :func:`end_recovered`), so queueing
    again never races its claims. Returns how many notifications were brought forward or
    queued again.
    """
    since = Channel.objects.filter(pk=channel_id).values_list("failing_since", flat=True).first()
    if since is None:
        return 0
    ended = Channel.objects.filter(pk=channel_id, failing_since=since).update(failing_since=None)
    if ended != 1:
        return 0
    brought_forward = Notification.objects.filter(
        channel_id=channel_id,
        state=NotificationState.PENDING,
        next_attempt_at__gt=leased_until,
    ).update(next_attempt_at=now)
    return brought_forward + alert_order.resend_after_recovery(channel_id, since, now)


def end_recovered(now: datetime, *, leased_until: datetime) -> int:
    """End the episodes of failing channels that succeeded since they began (a successful
    "send test" records the success; the sender ends the episode here, in its own loop)."""
    recovered = Channel.objects.filter(
        failing_since__isnull=False, last_success_at__gte=F("failing_since")
    ).values_list("pk", flat=True)
    return sum(end_failing(pk, now, leased_until=leased_until) for pk in recovered)
