"""A status page's Atom feed of incidents and iCal feed of maintenance, read back by real
parsers (feedparser, icalendar): only what the page shows, nothing of other clients' pages,
unpublished pages 404, linked from the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from incidents.models import (
    Incident,
    MaintenanceWindow,
    PublicUpdate,
    StatusPage,
    UpdateStatus,
)
from incidents.tests.statuspages import PRIVATE_MESSAGE, SECRETS, reset_caches, status_world
from sites.models import Site

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PUBLIC_TEXT = "We are looking into slow payments."
PRIVATE_NOTE = "root cause: db-7 disk full (internal note)"


@pytest.fixture
def sw(world):
    reset_caches()
    with time_machine.travel(NOW, tick=False):
        built = status_world(world, timezone.now())
        incident = Incident.objects.get(monitor=built.shown)
        incident.message = PRIVATE_NOTE
        incident.save()
        PublicUpdate.objects.create(
            incident=incident,
            status=UpdateStatus.IDENTIFIED,
            body=PUBLIC_TEXT,
            posted_at=NOW - timedelta(minutes=10),
        )
        yield built
    reset_caches()


def _get(path: str, **extra):
    with time_machine.travel(NOW, tick=False):
        return HttpClient().get(path, **extra)


def test_it_serves_the_incidents_as_atom_that_a_parser_reads(sw, settings):
    response = _get(f"/status/{sw.page.slug}/incidents.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    [entry] = feed.entries  # the private monitor's incident is not on this page
    assert PUBLIC_TEXT in entry.summary
    assert entry.link == f"{settings.SITECARE_BASE_URL}/status/{sw.page.slug}/"
    assert entry.updated_parsed[:5] == (2026, 12, 7, 11, 50)
    text = response.content.decode()
    for secret in (*SECRETS, PRIVATE_NOTE, PRIVATE_MESSAGE, str(sw.shown.pk)):
        assert secret not in text


def test_it_serves_the_coming_maintenance_as_icalendar_in_utc(sw, world):
    other = Site.objects.create(client=world.client_a, name="Intranet", slug="intranet")
    day = (NOW + timedelta(days=1)).date()
    for site, title in ((world.site_a, "Shop upgrade; phase 1"), (other, "Intranet upgrade")):
        MaintenanceWindow.objects.create(
            client=world.client_a,
            site=site,
            title=title,
            description="Checkout, cart\nand search",
            start_date=day,
            start_time=time(3),
            duration_minutes=45,
        )
    response = _get(f"/status/{sw.page.slug}/maintenance.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert all(len(line.encode()) <= 75 for line in response.content.decode().split("\r\n"))
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Shop upgrade; phase 1"
    assert str(event["DESCRIPTION"]) == "Checkout, cart\nand search"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
    zone = world.site_a.time_zone
    expected = datetime.combine(day, time(3), tzinfo=ZoneInfo(zone))
    assert start == expected and end - start == timedelta(minutes=45)
    assert "Intranet" not in response.content.decode()


def test_it_keeps_a_maintenance_uid_between_fetches(sw, world):
    MaintenanceWindow.objects.create(
        client=world.client_a,
        site=world.site_a,
        title="Weekly",
        start_date=(NOW + timedelta(days=1)).date(),
        start_time=time(2),
        duration_minutes=30,
    )
    first = icalendar.Calendar.from_ical(_get(f"/status/{sw.page.slug}/maintenance.ics").content)
    again = icalendar.Calendar.from_ical(_get(f"/status/{sw.page.slug}/maintenance.ics").content)
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == [
        str(e["UID"]) for e in again.walk("VEVENT")
    ]


def test_it_links_both_feeds_from_the_page_and_serves_them_on_its_domain(sw):
    html = _get(f"/status/{sw.page.slug}/").content.decode()
    atom = 'type="application/atom+xml" title="'
    assert atom in html and f'href="/status/{sw.page.slug}/incidents.atom"' in html
    assert (
        'type="text/calendar"' in html and f'href="/status/{sw.page.slug}/maintenance.ics"' in html
    )
    sw.page.custom_domain = "status.shop-a.example"
    sw.page.save()
    reset_caches()
    on_domain = _get("/incidents.atom", HTTP_HOST="status.shop-a.example")
    assert on_domain.status_code == 200
    assert feedparser.parse(on_domain.content).entries[0].link == "http://status.shop-a.example/"
    assert _get("/maintenance.ics", HTTP_HOST="status.shop-a.example").status_code == 200


def test_it_answers_404_for_unpublished_absent_and_other_clients_pages(sw, world):
    StatusPage.objects.filter(pk=sw.page.pk).update(published=False)
    for path in ("incidents.atom", "maintenance.ics"):
        assert _get(f"/status/{sw.page.slug}/{path}").status_code == 404
        assert _get(f"/status/nope/{path}").status_code == 404
    theirs = StatusPage.objects.create(
        client=world.client_b, slug="b-page", title="B", published=True
    )
    feed = feedparser.parse(_get(f"/status/{theirs.slug}/incidents.atom").content)
    assert feed.entries == []
    assert PUBLIC_TEXT not in _get(f"/status/{theirs.slug}/incidents.atom").content.decode()


def test_it_hides_the_subscribe_form_and_refuses_subscribing_when_not_offered(sw):
    assert "subscribe-email" in _get(f"/status/{sw.page.slug}/").content.decode()
    StatusPage.objects.filter(pk=sw.page.pk).update(allow_subscriptions=False)
    assert "subscribe-email" not in _get(f"/status/{sw.page.slug}/").content.decode()
    with time_machine.travel(NOW, tick=False):
        refused = HttpClient().post(f"/status/{sw.page.slug}/subscribe/", {"email": "a@b.example"})
    assert refused.status_code == 404


def test_it_offers_subscriptions_on_a_new_page_form_and_saves_the_choice(world):
    browser = signed_in(world.engineer)
    url = reverse("front:statuspages", args=[world.client_a.pk])
    html = browser.get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="allow_subscriptions"[^>]* checked', html)
    form = {"action": "save", "title": "T", "slug": "t-page", "accent_color": "#2563eb"}
    assert browser.post(url, {**form, "allow_subscriptions": "on"}).status_code == 302
    assert StatusPage.objects.get(slug="t-page").allow_subscriptions
    page = StatusPage.objects.get(slug="t-page")
    detail = reverse("front:statuspage", args=[page.pk])
    assert browser.post(detail, form).status_code == 302  # the box left unticked
    page.refresh_from_db()
    assert not page.allow_subscriptions
