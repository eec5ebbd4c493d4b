"""Subscribers end to end through a real SMTP server on 127.0.0.1: subscribe, confirm by the
emailed link, a public update emailed with an unsubscribe link that works in one click;
failed sends retried, rate limits, and links that must not work."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from incidents import statuspage_mail
from incidents.models import (
    StatusEmail,
    StatusEmailKind,
    StatusEmailState,
    StatusPage,
    StatusSubscriber,
    UpdateStatus,
)
from incidents.statuspage_mail import handle_one_status_emails, post_public_update
from incidents.tests.receivers import SmtpReceiver, free_port
from incidents.tests.statuspages import SCRIPT, SECRETS, reset_caches, status_world

LINK = re.compile(r"http://127\.0\.0\.1:8000(/status/[^\s]+/)")


@pytest.fixture
def sw(world):
    reset_caches()
    yield status_world(world, timezone.now())
    reset_caches()


@pytest.fixture
def smtp(settings):
    receiver = SmtpReceiver().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = receiver.port
    settings.DEFAULT_FROM_EMAIL = "status@agency.example"
    settings.SITECARE_BASE_URL = "http://127.0.0.1:8000"
    yield receiver
    receiver.stop()


def links_in(message) -> list[str]:
    return LINK.findall(message.get_content())


def send_all() -> int:
    sent = 0
    while handle_one_status_emails():
        sent += 1
    return sent


def subscribe(http: HttpClient, sw, email: str):
    return http.post(f"/status/{sw.page.slug}/subscribe/", {"email": email})


def test_it_subscribes_confirms_emails_an_update_and_unsubscribes(sw, smtp, world):
    http = HttpClient(enforce_csrf_checks=True)  # a visitor without a session or CSRF cookie
    answer = subscribe(http, sw, "  Reader@Example.COM ")
    assert answer.status_code == 200
    assert "Check your inbox" in answer.content.decode()
    subscriber = StatusSubscriber.objects.get()
    assert (subscriber.email, subscriber.confirmed_at) == ("reader@example.com", None)

    # A pending address gets nothing but the confirmation request.
    post_public_update(
        sw.shown.incidents.get(),
        status="investigating",
        body="Early",
        author=None,
        now=timezone.now(),
    )
    assert send_all() == 1 and smtp.wait_for(1)
    confirmation = smtp.messages[0]
    assert confirmation["To"] == "reader@example.com"
    assert "Confirm your subscription" in confirmation["Subject"]
    confirm_link, unsubscribe_link = links_in(confirmation)
    assert "/confirm/" in confirm_link and "/unsubscribe/" in unsubscribe_link
    assert confirmation["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8000{unsubscribe_link}>"

    # Opening the link only asks (a mail scanner follows every link); the button confirms.
    asked = http.get(confirm_link)
    assert asked.status_code == 200 and '<form method="post">' in asked.content.decode()
    assert StatusSubscriber.objects.get().confirmed_at is None
    assert http.post(confirm_link).status_code == 200
    assert StatusSubscriber.objects.get().confirmed_at is not None

    # The agency posts a public update on the incident page: one email, sent by the loop step.
    owner = signed_in(world.owner)
    incident = sw.shown.incidents.get()
    owner.post(
        reverse("front:incident_public_updates", args=[incident.pk]),
        {"status": UpdateStatus.IDENTIFIED, "body": f"A disk filled up {SCRIPT}"},
    )
    assert StatusEmail.objects.filter(kind=StatusEmailKind.UPDATE).count() == 1
    assert send_all() == 1 and smtp.wait_for(2)
    update = smtp.messages[1]
    text = update.get_content()
    assert f"A disk filled up {SCRIPT}" in text
    assert f"{SCRIPT}: outage" in text and "Identified" in update["Subject"]
    for secret in SECRETS:
        assert secret not in text and secret not in update["Subject"], secret
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (page_link, unsubscribe) = links_in(update)
    assert page_link == f"/status/{sw.page.slug}/"

    # Opening the link asks; one click on its button (or the mail program's RFC 8058 POST),
    # no sign-in; then nothing more is sent to the address.
    assert http.get(unsubscribe).status_code == 200
    assert StatusSubscriber.objects.exists()
    answer = http.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "unsubscribed" in answer.content.decode()
    assert not StatusSubscriber.objects.exists()
    assert http.post(unsubscribe).status_code == 200  # again: still fine
    post_public_update(incident, status="resolved", body="Fixed", author=None, now=timezone.now())
    assert send_all() == 0
    assert len(smtp.messages) == 2


def test_it_accepts_the_one_click_unsubscribe_post_of_mail_programs(sw):
    subscriber = StatusSubscriber.objects.create(
        page=sw.page, email="a@example.com", created_at=timezone.now(), confirmed_at=timezone.now()
    )
    token = statuspage_mail.unsubscribe_token(subscriber)
    http = HttpClient(enforce_csrf_checks=True)
    answer = http.post(
        f"/status/{sw.page.slug}/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200
    assert not StatusSubscriber.objects.exists()


def test_it_retries_a_failed_send_and_loses_nothing(sw, smtp, settings):
    settings.EMAIL_PORT = free_port()  # nothing listens: the send fails
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 60
    subscribe(HttpClient(), sw, "reader@example.com")
    assert handle_one_status_emails()
    row = StatusEmail.objects.get()
    assert row.state == StatusEmailState.PENDING
    assert row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert not handle_one_status_emails()  # not due yet

    settings.EMAIL_PORT = smtp.port
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert handle_one_status_emails()
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (StatusEmailState.SENT, 2, "")
    assert smtp.wait_for(1) and len(smtp.messages) == 1


def test_it_marks_an_email_failed_after_the_last_attempt(sw, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 0
    settings.SITECARE_ALERT_MAX_ATTEMPTS = 2
    subscribe(HttpClient(), sw, "reader@example.com")
    assert handle_one_status_emails() and handle_one_status_emails()
    assert not handle_one_status_emails()
    row = StatusEmail.objects.get()
    assert (row.state, row.attempts) == (StatusEmailState.FAILED, 2)
    assert row.last_error


def test_it_says_the_same_whether_an_address_was_new_pending_or_confirmed(sw, mailoutbox):
    http = HttpClient()
    first = subscribe(http, sw, "reader@example.com").content
    again = subscribe(http, sw, "reader@example.com").content
    StatusSubscriber.objects.update(confirmed_at=timezone.now())
    confirmed = subscribe(http, sw, "reader@example.com").content
    assert first == again == confirmed
    # One confirmation request, however often asked within ten minutes.
    assert send_all() == 1 and len(mailoutbox) == 1


def test_it_names_the_field_of_a_bad_address_and_stores_nothing(sw):
    for bad in ("", "not-an-address", "a@b", "x" * 250 + "@example.com"):
        answer = subscribe(HttpClient(), sw, bad)
        assert answer.status_code == 400, bad
        html = answer.content.decode()
        assert "Email address: Enter a valid email address." in html, bad
        assert 'aria-invalid="true"' in html
    assert not StatusSubscriber.objects.exists()
    assert not StatusEmail.objects.exists()


def test_it_limits_subscribe_attempts_per_address_and_page(sw, settings):
    settings.SITECARE_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1/32"),)
    http = HttpClient()
    for number in range(statuspage_mail.SUBSCRIBE_LIMIT):
        assert subscribe(http, sw, f"r{number}@example.com").status_code == 200
    assert subscribe(http, sw, "late@example.com").status_code == 429
    # Behind a trusted reverse proxy: the address the proxy appended counts, each on its own.
    proxied = HttpClient(HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    assert subscribe(proxied, sw, "proxied@example.com").status_code == 200
    # Anyone else's forwarded header is not believed: the peer's own address counts.
    other = HttpClient(REMOTE_ADDR="10.1.2.3")
    for number in range(statuspage_mail.SUBSCRIBE_LIMIT):
        forged = f"192.0.2.{number}"
        answer = other.post(
            f"/status/{sw.page.slug}/subscribe/", {"email": "o@x.com"}, HTTP_X_FORWARDED_FOR=forged
        )
        assert answer.status_code == 200
    assert subscribe(other, sw, "other@example.com").status_code == 429


def test_it_refuses_forged_expired_and_foreign_confirm_links(sw, world):
    now = timezone.now()
    subscriber = StatusSubscriber.objects.create(
        page=sw.page, email="a@example.com", created_at=now
    )
    token = statuspage_mail.confirm_token(subscriber)
    http = HttpClient()
    base = f"/status/{sw.page.slug}"
    assert http.get(f"{base}/confirm/{token}x/").status_code == 404
    assert (
        http.get(f"{base}/confirm/{statuspage_mail.unsubscribe_token(subscriber)}/").status_code
        == 404
    )
    # A token of this page's subscriber does nothing on another page.
    other = StatusPage.objects.create(
        client=world.client_a, slug="second", title="Second", published=True
    )
    assert http.get(f"/status/{other.slug}/confirm/{token}/").status_code == 404
    with time_machine.travel(now + timedelta(days=8)):
        assert http.get(f"{base}/confirm/{token}/").status_code == 404
    assert StatusSubscriber.objects.get().confirmed_at is None
    assert http.get(f"{base}/confirm/{token}/").status_code == 200
    assert http.get(f"{base}/unsubscribe/{token}/").status_code == 404  # wrong kind of token
    assert StatusSubscriber.objects.exists()


def test_it_emails_nobody_when_no_published_page_shows_the_incident(sw, world):
    StatusSubscriber.objects.create(
        page=sw.page, email="a@example.com", created_at=timezone.now(), confirmed_at=timezone.now()
    )
    private_incident = sw.private.incidents.get()
    post_public_update(
        private_incident, status="investigating", body="x", author=None, now=timezone.now()
    )
    assert not StatusEmail.objects.exists()
    sw.page.published = False
    sw.page.save()
    post_public_update(
        sw.shown.incidents.get(), status="investigating", body="x", author=None, now=timezone.now()
    )
    assert not StatusEmail.objects.exists()


def test_it_mails_a_subscriber_an_incidents_updates_in_order_when_one_is_retried(
    sw, smtp, settings, world
):
    """The mail server is briefly unreachable for "investigating"; "resolved" is posted
    meanwhile: the subscriber still reads "investigating" first."""
    settings.SITECARE_ALERT_BACKOFF_SECONDS = 60
    StatusSubscriber.objects.create(
        page=sw.page,
        email="reader@example.com",
        confirmed_at=timezone.now(),
        created_at=timezone.now(),
    )
    incident = sw.shown.incidents.get()
    now = timezone.now()
    settings.EMAIL_PORT = free_port()
    post_public_update(
        incident, status="investigating", body="We are looking", now=now, author=world.owner
    )
    send_all()
    settings.EMAIL_PORT = smtp.port
    post_public_update(incident, status="resolved", body="All good", now=now, author=world.owner)
    assert send_all() == 0  # "resolved" waits for "investigating"
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert send_all() == 2
    assert smtp.wait_for(2)
    bodies = [m.get_content() for m in smtp.messages]
    assert ["All good" in b for b in bodies] == [False, True]
