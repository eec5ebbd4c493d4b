"""The alert sender: delivers the notification outbox through Apprise, at least once.

A row is sent only while it is pending and due. Each attempt is claimed first by a conditional
UPDATE that counts the attempt and leases the row, so a crash between sending and recording
repeats the message at most once (after the lease), always with the same deduplication key,
and a recorded delivery is never sent again.
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any
from urllib.parse import unquote

import apprise
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.utils import timezone, translation

from incidents import alert_order, channel_health, outbox
from incidents.channel_url import ChannelRefused, ChannelUrl, apprise_log, judge, read_channel_url
from incidents.delivery_guard import network_policy
from incidents.escalation import handle_one_escalations
from incidents.logic import handle_one_flap_settle
from incidents.maintenance import handle_one_maintenance_end
from incidents.models import (
    Channel,
    EventKind,
    IncidentEvent,
    Notification,
    NotificationState,
)
from incidents.outbox import backoff_seconds, lease_seconds
from incidents.statuspage_mail import send_due_status_emails
from jobs.leases import SingletonLease
from sitecare.lib import messages
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import IPNetwork
from tenancy.models import Organization

logger = logging.getLogger("sitecare.alerts")

DEDUP_HEADER = "X-Sitecare-Dedup-Key"
# Apprise plugins whose URLs take ``+Header=value`` (``headers`` in their template_kwargs):
# the custom webhooks and email, where it becomes a mail header.
HEADER_SCHEMAS = frozenset({"json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos"})
ERROR_MAX_CHARS = 500
# One alert sender per database (jobs.leases): two would race each other's sends.
LEASE_NAME = "alert-sender"
_URL_SEPARATORS = re.compile(r"[/:@?&=#+,;]+")
_NOTIFY_TYPES: dict[str, apprise.NotifyType] = {
    EventKind.OPENED: apprise.NotifyType.FAILURE,
    EventKind.RESOLVED: apprise.NotifyType.SUCCESS,
    EventKind.CHANNEL_FAILING: apprise.NotifyType.WARNING,
    EventKind.ESCALATED: apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True)
class SendOutcome:
    """What one send attempt gave: delivered, or the (secret-free) error and whether to stop."""

    delivered: bool
    error: str = ""
    final: bool = False


def claim_due(now: datetime) -> Notification | None:
    """Claim the next due notification for one attempt (see :mod:`incidents.outbox`)."""
    pk = outbox.claim_next(Notification, now, ready=alert_order.ready())
    if pk is None:
        return None
    # The channel URL is decrypted only when sending, where a wrong key is handled.
    return (
        Notification.objects.select_related("channel__organization")
        .defer("channel__url")
        .get(pk=pk)
    )


def handle_one_notification() -> bool:
    """Claim, send and record the next due notification; False when nothing is due."""
    now = timezone.now()
    notification = claim_due(now)
    if notification is None:
        return False
    # Error texts we write are read in the agency's language, like the alert itself.
    with translation.override(notification.channel.organization.language):
        if alert_order.waiting_before(notification):
            # An earlier alert of its incident was queued again since the claim: it goes first.
            alert_order.put_back(notification, now)
            return True
        with transaction.atomic():
            # An earlier alert of this incident never reached the channel: this one would
            # make no sense alone ("resolved" of an outage it never heard of).
            held = alert_order.hold_back(notification, now)
            if held:
                _record_held_back(notification, now)
        if not held:
            record_outcome(notification, deliver(notification))
    return True


def _record_held_back(notification: Notification, now: datetime) -> None:
    """Say on the incident's timeline that a notification was held back (the channel was not
    tried, so its health is unchanged)."""
    _timeline(
        notification,
        now,
        EventKind.NOTIFICATION_FAILED,
        _("Held back from %(channel)s: an earlier alert did not reach it.")
        % {"channel": notification.channel.name},
        held_back=True,
    )
    logger.info(
        "notification %s to channel %s held back: an earlier one of its incident failed",
        notification.pk,
        notification.channel_id,
    )


def _timeline(
    notification: Notification, now: datetime, kind: str, message: str, **details: object
) -> None:
    """One line on the notification's incident timeline (none for an owner notice)."""
    if notification.incident_id is None:
        return
    IncidentEvent.objects.create(
        incident_id=notification.incident_id,
        at=now,
        kind=kind,
        message=message,
        details={"channel": notification.channel_id, **details},
    )


def deliver(notification: Notification) -> SendOutcome:
    """Send one notification through Apprise with its dedup key; never raises.

    1. A disabled channel gets nothing: the row fails at once, visibly.
    2. Decrypt the channel URL and build the Apprise service with the dedup key header and
       our timeouts, judged as when the channel was saved (:func:`channel_url.judge`): a URL
       sitecare no longer sends to fails at once; a wrong key or a bad URL is an ordinary
       failed attempt.
    3. Send under the agency's network policy (the SSRF guard: every connect and send of the
       plugin is checked), capturing Apprise's warnings as the error, with the URL's secrets
       removed.
    """
    channel = notification.channel
    if not channel.enabled:
        return SendOutcome(delivered=False, error=_("The channel is disabled."), final=True)
    try:
        url = Channel.objects.values_list("url", flat=True).get(pk=channel.pk)
    except ValueError:
        return SendOutcome(
            delivered=False,
            error=_("The channel address cannot be decrypted: the encryption key has changed."),
        )
    target = read_channel_url(url)
    with (
        network_policy(_allowlist(channel.organization)) as refused,
        apprise_log() as apprise_lines,
    ):
        try:
            service = judge(target, delivery_arguments(target, notification.dedup_key))
            delivered = service is not None and _notify(service, notification)
        except ChannelRefused as refusal:
            return SendOutcome(delivered=False, error=str(refusal), final=True)
        except Exception as exc:  # a plugin bug must not stop the sender loop
            if not refused.address:  # (a plugin may let the guard's refusal through: below)
                # The exception text may quote the URL: keep its type only.
                error = _("Sending failed unexpectedly (%(error)s).") % {
                    "error": type(exc).__name__
                }
                return SendOutcome(delivered=False, error=error)
            service, delivered = None, False
    if refused.address and not delivered:
        # The agency's network policy refused the channel's address (the SSRF guard).
        return SendOutcome(delivered=False, error=refused.message)
    if service is None:
        return SendOutcome(delivered=False, error=_invalid_url_error(apprise_lines, url))
    if delivered:
        return SendOutcome(delivered=True)
    return SendOutcome(delivered=False, error=scrub_secrets("; ".join(apprise_lines), url))


def _allowlist(organization: Organization) -> tuple[IPNetwork, ...]:
    try:
        return organization.allowed_networks()
    except ValueError:  # a malformed allowlist admits nothing extra: the safe reading
        return ()


def _notify(service: apprise.NotifyBase, notification: Notification) -> bool:
    # notify() sends in this thread, where the network policy is; never attachments.
    return bool(
        service.notify(
            body=notification.body,
            title=notification.title,
            notify_type=_NOTIFY_TYPES.get(notification.event, apprise.NotifyType.INFO),
            body_format=apprise.NotifyFormat.TEXT,
        )
    )


def _invalid_url_error(apprise_log: list[str], url: str) -> str:
    error: str = _(
        "The channel address is not a valid Apprise URL, or its service is not available."
    )
    if apprise_log:
        error += " " + scrub_secrets("; ".join(apprise_log), url)
    return error[:ERROR_MAX_CHARS]


def delivery_arguments(target: ChannelUrl, dedup_key: str) -> dict[str, Any]:
    """The channel's plugin arguments with the dedup key header and our timeouts."""
    results = target.arguments()
    if results.get("schema") in HEADER_SCHEMAS:
        results["headers"] = {**(results.get("headers") or {}), DEDUP_HEADER: dedup_key}
    # cto/rto: Apprise's connect and read timeouts (apprise/url.py), same as ?cto=&rto=.
    results["cto"] = results["rto"] = settings.SITECARE_ALERT_SEND_TIMEOUT
    return results


def scrub_secrets(text: str, url: str) -> str:
    """Replace every piece of the URL (host, user, password, path, query) in text by ***."""
    _scheme, _sep, rest = url.partition("://")
    pieces = {p for p in _URL_SEPARATORS.split(rest) if len(p) >= 4}
    pieces |= {unquote(p) for p in pieces}
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    text = text.strip() or _("The service did not accept the message.")
    return text[:ERROR_MAX_CHARS]


def record_outcome(notification: Notification, outcome: SendOutcome) -> None:
    """Record a send attempt on the row, its incident's timeline and its channel."""
    now = timezone.now()
    if outcome.delivered:
        _record_delivered(notification, now)
    else:
        _record_failure(notification, outcome, now)


def _record_delivered(notification: Notification, now: datetime) -> None:
    with transaction.atomic():
        recorded = Notification.objects.filter(
            pk=notification.pk, state=NotificationState.PENDING
        ).update(
            state=NotificationState.DELIVERED,
            delivered_at=now,
            **messages.columns("last_error", "", ERROR_MAX_CHARS),
        )
        Channel.objects.filter(pk=notification.channel_id).update(
            consecutive_failures=0, last_success_at=now
        )
        # It works again: its waiting notifications go out now, each once.
        leased_until = now + timedelta(seconds=lease_seconds())
        channel_health.end_failing(notification.channel_id, now, leased_until=leased_until)
        if recorded:
            message = _("Sent to %(channel)s.") % {"channel": notification.channel.name}
            _timeline(notification, now, EventKind.NOTIFICATION_SENT, message)
    logger.info(
        "notification %s delivered to channel %s (attempt %s)",
        notification.pk,
        notification.channel_id,
        notification.attempts,
    )


def _record_failure(notification: Notification, outcome: SendOutcome, now: datetime) -> None:
    """Schedule the next attempt with backoff, or give up visibly after the last one."""
    give_up = outcome.final or notification.attempts >= settings.SITECARE_ALERT_MAX_ATTEMPTS
    changes: dict[str, Any] = messages.columns("last_error", outcome.error, ERROR_MAX_CHARS)
    if give_up:
        changes.update(state=NotificationState.FAILED, failed_at=now)
    else:
        changes["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(notification.attempts))
    with transaction.atomic():
        recorded = Notification.objects.filter(
            pk=notification.pk, state=NotificationState.PENDING
        ).update(**changes)
        Channel.objects.filter(pk=notification.channel_id).update(
            consecutive_failures=F("consecutive_failures") + 1,
            last_error_at=now,
            **messages.columns("last_error", outcome.error, ERROR_MAX_CHARS),
        )
        if recorded and give_up:
            message = _failed_event_message(notification, outcome.error)
            _timeline(notification, now, EventKind.NOTIFICATION_FAILED, message)
        if recorded and give_up and not outcome.final:
            # Out of attempts: the channel is failing; the owners hear of it elsewhere, once.
            channel_health.start_failing(notification.channel, now, outcome.error)
    logger.warning(
        "notification %s to channel %s failed (attempt %s%s): %s",
        notification.pk,
        notification.channel_id,
        notification.attempts,
        ", giving up" if give_up else "",
        outcome.error,
    )


def _failed_event_message(notification: Notification, error: str) -> str:
    return _("Not delivered to %(channel)s after %(attempts)d attempts: %(error)s") % {
        "channel": notification.channel.name,
        "attempts": notification.attempts,
        "error": error,
    }


def process_due(stop: threading.Event, keep: Callable[[], bool] = lambda: True) -> int:
    """End the failing episodes a test ended, then handle due notifications one at a time
    until none is due, a stop is asked, or ``keep`` says the sender lost its lease."""
    now = timezone.now()
    # Channels a "send test" proved working: their episodes end here, in the sender's loop.
    channel_health.end_recovered(now, leased_until=now + timedelta(seconds=lease_seconds()))
    handled = 0
    while not stop.is_set() and keep() and handle_one_notification():
        handled += 1
    return handled


def lease_ttl_seconds() -> float:
    """The sender's lease outlives its longest step (one send, bounded by the outbox lease)
    twice over, so a busy sender renews it in time."""
    return max(90.0, 2 * lease_seconds())


def take_lease(stop: threading.Event, *, once: bool) -> SingletonLease | None:
    """The sender's lease, once ours; None when a stop came first, or (``once``) when
    another sender holds it: a one-off run does not wait."""
    lease = SingletonLease(LEASE_NAME, lease_ttl_seconds())
    if not once:
        return (
            lease
            if lease.wait_until_acquired(stop.is_set, stop.wait, what="alert sender")
            else None
        )
    refusal = lease.try_acquire()
    if refusal is None:
        return lease
    logger.warning(
        "alert sender: another alert sender runs on this database (%s); it delivers the "
        "outbox, so this one-off run does nothing",
        refusal.describe(),
    )
    return None


class LeaseLost(RuntimeError):
    """The sender stopped because another sender holds its lease now."""


def run(
    stop: threading.Event,
    *,
    once: bool = False,
    periodic: Sequence[Callable[[datetime], object]] = (),
) -> int:
    """The sender loop; returns how many notifications it handled.

    1. Handle everything due (a stop request ends it after the current send); ``periodic``
       steps of other apps (error-budget checks) run first each round, so what they queue
       goes out in the same round; each keeps its own pace.
    2. With ``once``, return; otherwise wait the poll interval, waking early on a stop.
    3. A database error (SQLite busy, a lost connection) is logged and the round retried
       after the interval: the loop outlives it and the leased row is retried later.
    4. Only the holder of the sender's lease runs the loop (one sender per database). One
       that finds it taken by another, or could not renew it for its whole life, stops and
       raises :class:`LeaseLost` (its command exits 1, so a supervisor restarts it).
    """
    lease = take_lease(stop, once=once)
    if lease is None:
        return 0
    try:
        return _run_rounds(stop, lease, once=once, periodic=periodic)
    finally:
        with contextlib.suppress(DatabaseError):
            lease.release()


def _run_rounds(
    stop: threading.Event,
    lease: SingletonLease,
    *,
    once: bool,
    periodic: Sequence[Callable[[datetime], object]],
) -> int:
    handled = 0
    logger.info("alert sender started (polling every %ss)", settings.SITECARE_ALERT_POLL_SECONDS)
    while not stop.is_set():
        try:
            if not lease.renew_if_due():
                raise LeaseLost("another alert sender took over this one's lease")
            # Outages held by maintenance windows that just ended: their alerts go out now.
            handle_one_maintenance_end(timezone.now())
            # Flapping incidents whose flap window is over: resolve or announce them once.
            handle_one_flap_settle(timezone.now())
            # Escalation steps whose wait for an acknowledgement is over: page the next one.
            handle_one_escalations(timezone.now())
            for step in periodic:
                step(timezone.now())
            handled += process_due(stop, keep=lease.renew_if_due)
            # Status page subscribers' emails (confirmations, public updates).
            send_due_status_emails(stop, keep=lease.renew_if_due)
        except DatabaseError:
            logger.exception("alert sender: database error, retrying")
            connections.close_all()
            if lease.ran_out():
                raise LeaseLost("the alert sender could not renew its lease in time") from None
        if once:
            break
        stop.wait(settings.SITECARE_ALERT_POLL_SECONDS)
    logger.info("alert sender stopped after %s notification(s)", handled)
    return handled


def stop_on_signals(stop: threading.Event) -> None:
    """Make SIGTERM and SIGINT ask the loop to stop after the current send (main thread only)."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
