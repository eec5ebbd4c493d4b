"""Status page subscribers and their emails: double opt-in, one-click unsubscribe, public
updates on incidents, and the outbox step that sends the emails.

- Subscribing writes a pending subscriber and a confirmation email; nothing else is sent to
  an address until its owner follows the confirmation link.
- Links carry tokens signed with the install's secret key over the subscriber's id and
  nonce: the database holds no token (the emails are rendered when sent, not stored).
- Every email has an unsubscribe link, which works in one click without signing in (and as
  RFC 8058 one-click ``List-Unsubscribe-Post``).
- A public update queues one email per confirmed subscriber of every published page showing
  the incident, in the transaction that stores the update. The alert sender's loop sends
  them (:func:`handle_one_status_emails`); a failed send is retried with backoff and, after
  the last attempt, marked failed for everyone to see.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import outbox
from incidents.models import (
    Incident,
    PublicUpdate,
    StatusEmail,
    StatusEmailKind,
    StatusEmailState,
    StatusPage,
    StatusSubscriber,
)
from incidents.statuspage import (
    components_for,
    components_of,
    incident_monitor_ids,
    incident_title,
    page_zone,
)
from incidents.statuspage_links import public_origin

logger = logging.getLogger("sitecare.statuspages")

CONFIRM_SALT = "sitecare.statuspage.confirm"
UNSUBSCRIBE_SALT = "sitecare.statuspage.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)
# A pending address gets at most one confirmation email in this time, however often asked.
RESEND_AFTER = timedelta(minutes=10)
# Subscribe attempts per address (IP) and page in a window: enough for typos, not for abuse.
SUBSCRIBE_LIMIT = 5
SUBSCRIBE_WINDOW_SECONDS = 15 * 60
ERROR_MAX_CHARS = 500


# --- tokens ----------------------------------------------------------------------------------


def _subject_of(subscriber: StatusSubscriber) -> str:
    return f"{subscriber.pk}.{subscriber.nonce}"


def confirm_token(subscriber: StatusSubscriber) -> str:
    """A confirmation token, valid for 7 days from now."""
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(_subject_of(subscriber))


def unsubscribe_token(subscriber: StatusSubscriber) -> str:
    """An unsubscribe token, valid as long as the subscription."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(_subject_of(subscriber))


def _subscriber(page: StatusPage, subject: str) -> StatusSubscriber | None:
    pk, _dot, nonce = subject.partition(".")
    if not pk.isdigit() or not nonce:
        return None
    return StatusSubscriber.objects.filter(page=page, pk=int(pk), nonce=nonce).first()


# --- subscribing -----------------------------------------------------------------------------


def allow_subscribe_attempt(page: StatusPage, address: str) -> bool:
    """Count one subscribe attempt from ``address`` on the page; False past the limit."""
    key = f"sitecare:statuspage-subscribe:{page.pk}:{address}"
    cache.add(key, 0, timeout=SUBSCRIBE_WINDOW_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=SUBSCRIBE_WINDOW_SECONDS)
        attempts = 1
    return int(attempts) <= SUBSCRIBE_LIMIT


def normal_email(raw: str) -> str:
    """The address as stored and compared: trimmed, lowercased; ValidationError on ``email``."""
    email = (raw or "").strip().lower()
    try:
        if not email or len(email) > 254:
            raise ValidationError(_("Enter a valid email address."))
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    return email


def subscribe(page: StatusPage, raw_email: str, now: datetime) -> None:
    """Ask an address to confirm its subscription; says nothing about whether it had one.

    1. Forget pending subscriptions of the page whose confirmation has expired.
    2. Find or create the subscriber; a confirmed one gets nothing more.
    3. Queue a confirmation email unless one was queued in the last 10 minutes.
    """
    email = normal_email(raw_email)
    with transaction.atomic():
        StatusSubscriber.objects.filter(
            page=page, confirmed_at__isnull=True, created_at__lt=now - CONFIRM_MAX_AGE
        ).delete()
        subscriber, _created = StatusSubscriber.objects.get_or_create(
            page=page, email=email, defaults={"created_at": now}
        )
        if subscriber.confirmed_at is not None:
            return
        recent = subscriber.emails.filter(
            kind=StatusEmailKind.CONFIRM, created_at__gt=now - RESEND_AFTER
        )
        if not recent.exists():
            StatusEmail.objects.create(
                page=page,
                subscriber=subscriber,
                kind=StatusEmailKind.CONFIRM,
                dedup_key=f"status-confirm-{subscriber.pk}-{now.timestamp():.6f}",
                next_attempt_at=now,
                created_at=now,
            )


def confirm_subscriber(page: StatusPage, token: str) -> StatusSubscriber | None:
    """The subscription a confirm token names; None for a bad, expired or stale token."""
    try:
        subject = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    return _subscriber(page, subject)


def confirm(page: StatusPage, token: str, now: datetime) -> bool:
    """Confirm the subscription the token names; False for a bad, expired or stale token."""
    subscriber = confirm_subscriber(page, token)
    if subscriber is None:
        return False
    StatusSubscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True).update(
        confirmed_at=now
    )
    return True


def unsubscribe_subject(token: str) -> str | None:
    """What an unsubscribe token names; None for a token we did not sign."""
    try:
        return signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None


def unsubscribe(page: StatusPage, token: str) -> bool:
    """Delete the subscription the token names; False only for a token we did not sign.

    A token whose subscription is already gone is fine: the address gets nothing either way.
    """
    subject = unsubscribe_subject(token)
    if subject is None:
        return False
    subscriber = _subscriber(page, subject)
    if subscriber is not None:
        subscriber.delete()
    return True


# --- public updates --------------------------------------------------------------------------


def post_public_update(
    incident: Incident,
    *,
    status: str,
    body: str,
    author: User | None,
    now: datetime,
) -> PublicUpdate:
    """Store a public update and queue its emails in one transaction; ValidationError names
    the field (``status``, ``body``) when the input is refused."""
    update = PublicUpdate(
        incident=incident, status=status, body=(body or "").strip(), posted_at=now, author=author
    )
    update.full_clean()
    with transaction.atomic():
        update.save()
        enqueue_update_emails(update, now)
    return update


def pages_showing(incident: Incident) -> list[StatusPage]:
    """The published pages that have one of the incident's monitors as a component."""
    return list(
        StatusPage.objects.filter(
            published=True, components__monitor_id__in=incident_monitor_ids(incident)
        )
        .distinct()
        .order_by("pk")
    )


def enqueue_update_emails(update: PublicUpdate, now: datetime) -> int:
    """One email per confirmed subscriber of each page showing the incident; returns how many."""
    subscribers = StatusSubscriber.objects.filter(
        page__in=pages_showing(update.incident), confirmed_at__isnull=False
    ).only("pk", "page_id")
    rows = [
        StatusEmail(
            page_id=s.page_id,
            subscriber=s,
            kind=StatusEmailKind.UPDATE,
            update=update,
            dedup_key=f"status-update-{update.pk}-subscriber-{s.pk}",
            next_attempt_at=now,
            created_at=now,
        )
        for s in subscribers
    ]
    StatusEmail.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)


# --- the outbox ------------------------------------------------------------------------------


def in_order() -> Q:
    """Emails no earlier update of the same incident to the same subscriber waits before: a
    retried "investigating" goes out before the "resolved" written after it. (Each update
    says the incident's status then, so one after an update that failed for good still goes:
    it is the news.)"""
    earlier_waits = StatusEmail.objects.filter(
        subscriber_id=OuterRef("subscriber_id"),
        update__incident_id=OuterRef("update__incident_id"),
        state=StatusEmailState.PENDING,
        pk__lt=OuterRef("pk"),
    )
    return ~Q(Exists(earlier_waits))


def claim_due(now: datetime) -> StatusEmail | None:
    """Claim the next due email for one attempt (see :mod:`incidents.outbox`), or None."""
    pk = outbox.claim_next(StatusEmail, now, ready=in_order())
    if pk is None:
        return None
    return StatusEmail.objects.select_related(
        "page__client__organization", "subscriber", "update__incident"
    ).get(pk=pk)


def handle_one_status_emails() -> bool:
    """Claim, send and record the next due subscriber email; False when none is due."""
    row = claim_due(timezone.now())
    if row is None:
        return False
    with translation.override(row.page.client.organization.language):
        message, final_error = build_message(row)
        error = final_error or deliver(message)
        record(row, error, final=bool(final_error))
    return True


def send_due_status_emails(stop: threading.Event, keep: Callable[[], bool] = lambda: True) -> int:
    """Send due subscriber emails until none is due, a stop is asked, or ``keep`` says the
    sender lost its lease; returns how many."""
    handled = 0
    while not stop.is_set() and keep() and handle_one_status_emails():
        handled += 1
    return handled


def deliver(message: EmailMessage) -> str:
    """Send through Django's email backend; the error text, or "" when it was accepted."""
    try:
        message.connection = get_connection(timeout=settings.SITECARE_ALERT_SEND_TIMEOUT)
        sent = message.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket and backend errors alike: retried later
        return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
    return "" if sent else _("The mail server did not accept the message.")


def record(row: StatusEmail, error: str, *, final: bool = False) -> None:
    """Mark the row sent, or schedule its retry, or give up visibly after the last attempt."""
    now = timezone.now()
    pending = StatusEmail.objects.filter(pk=row.pk, state=StatusEmailState.PENDING)
    if not error:
        pending.update(state=StatusEmailState.SENT, sent_at=now, last_error="")
        return
    if final or row.attempts >= settings.SITECARE_ALERT_MAX_ATTEMPTS:
        pending.update(state=StatusEmailState.FAILED, last_error=error)
    else:
        retry_at = now + timedelta(seconds=outbox.backoff_seconds(row.attempts))
        pending.update(next_attempt_at=retry_at, last_error=error)
    logger.warning("status email %s failed (attempt %s): %s", row.pk, row.attempts, error)


def build_message(row: StatusEmail) -> tuple[EmailMessage, str]:
    """The email of one outbox row, plain text, with its unsubscribe link and headers.

    Returns an error instead when there is nothing right to send any more (the page was
    unpublished, or no longer shows the incident): the row then fails visibly.
    """
    page, subscriber = row.page, row.subscriber
    origin, links = public_origin(page)
    page_url = origin + links.page
    unsubscribe_url = origin + links.unsubscribe(unsubscribe_token(subscriber))
    if row.kind == StatusEmailKind.CONFIRM:
        subject = _("Confirm your subscription to %(page)s") % {"page": page.title}
        lines = [
            _("Someone, hopefully you, asked for updates of the status page “%(page)s”.")
            % {"page": page.title},
            _("To receive them, confirm within 7 days: %(link)s")
            % {"link": origin + links.confirm(confirm_token(subscriber))},
            _("If it was not you, ignore this email: nothing is sent without a confirmation."),
        ]
    else:
        lines_or_error = _update_lines(row, page_url)
        if isinstance(lines_or_error, str):
            return EmailMessage(), lines_or_error
        subject, lines = lines_or_error
    lines += ["", _("Unsubscribe (one click): %(link)s") % {"link": unsubscribe_url}]
    message = EmailMessage(
        subject=" ".join(subject.split())[:200],
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Sitecare-Dedup-Key": row.dedup_key,
        },
    )
    return message, ""


def _update_lines(row: StatusEmail, page_url: str) -> tuple[str, list[str]] | str:
    """Subject and lines of an update email, or the reason it can no longer be sent."""
    page, update = row.page, row.update
    if update is None or not page.published:
        return _("The status page is no longer published.")
    components = components_of(page)
    shown = components_for(update.incident, components)
    if not shown:
        return _("The status page no longer shows this incident.")
    zone = page_zone(page, components)
    posted = timezone.localtime(update.posted_at, ZoneInfo(zone))
    title = incident_title([c.name for c in shown])
    subject = f"[{page.title}] {title}: {update.get_status_display()}"
    lines = [
        title,
        _("Status: %(status)s") % {"status": update.get_status_display()},
        "",
        update.body,
        "",
        _("Posted %(time)s (%(zone)s)") % {"time": f"{posted:%Y-%m-%d %H:%M}", "zone": zone},
        _("Status page: %(link)s") % {"link": page_url},
    ]
    return subject, lines
