"""The pages answer, show what they should, and only to signed-in users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from incidents.models import Incident, IncidentState
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor, MonitorState
from sites.models import Site

PAGES_WITHOUT_ID = ["dashboard", "incidents", "channels", "profile"]


@pytest.mark.django_db
def test_it_answers_the_login_page_anonymously():
    response = HttpClient().get(reverse("front:login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_it_redirects_anonymous_visitors_to_the_login_page(world, incident_a):
    browser = HttpClient()
    urls = [reverse(f"front:{name}") for name in PAGES_WITHOUT_ID] + [
        reverse("front:client", args=[world.client_a.pk]),
        reverse("front:site", args=[world.site_a.pk]),
        reverse("front:monitor", args=[world.monitor_a.pk]),
        reverse("front:incident", args=[incident_a.pk]),
    ]
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("front:login")), url


def test_it_signs_in_and_lands_on_the_dashboard(world):
    browser = HttpClient()
    response = browser.post(
        reverse("front:login"),
        {"username": "owner", "password": "correct-horse-battery-9"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("front:dashboard")


def test_it_signs_out_only_by_post(world):
    browser = signed_in(world.owner)
    assert browser.get(reverse("front:logout")).status_code == 405
    assert browser.post(reverse("front:logout")).status_code == 302
    assert browser.get(reverse("front:dashboard")).status_code == 302


@pytest.mark.parametrize("persona", ["owner", "engineer"])
def test_it_shows_every_client_to_the_agency(world, persona):
    html = signed_in(getattr(world, persona)).get(reverse("front:dashboard")).content.decode()
    assert "Client A" in html
    assert "Client B" in html
    # Sites are listed on their clients' pages; the dashboard shows those needing attention.
    assert "Shop A" not in html


def test_it_shows_a_client_user_only_their_client(world):
    response = signed_in(world.client_a_user).get(reverse("front:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Client A" in html
    assert "Client B" not in html
    assert "Shop B" not in html
    assert "b.example" not in html


def test_it_counts_sites_and_open_incidents_on_the_dashboard(world):
    world.monitor_b.state = MonitorState.DOWN
    world.monitor_b.save()
    world.monitor_a.state = MonitorState.UP
    world.monitor_a.save()
    Incident.objects.create(
        monitor=world.monitor_b,
        opened_at=timezone.now() - timedelta(minutes=3),
        failure_class=FailureClass.CONNECTION_REFUSED,
    )
    response = signed_in(world.owner).get(reverse("front:dashboard"))
    totals = response.context["board"].totals
    assert (totals.up, totals.down, totals.open_incidents) == (1, 1, 1)
    html = response.content.decode()
    attention = html.split('id="attention"')[1].split("</section>")[0]
    assert "Shop B" in attention and "Shop A" not in attention
    assert "Happening now" in html
    assert "The server refused the connection" in html
    assert 'badge--down"' in html and ">Down<" in html  # a word, not only a colour


def test_it_shows_the_site_page_with_uptime_chart_and_incident_durations(world, incident_a):
    response = signed_in(world.client_a_user).get(reverse("front:site", args=[world.site_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "<polyline" in html
    assert 'class="chart-failure"' in html
    assert "4 min 12 s" in html
    assert "The server did not answer in time" in html
    row = response.context["rows"][0]
    assert row.uptime_day.down_seconds == pytest.approx(252, abs=1)
    assert row.uptime_day.percent < 100


def test_it_shows_the_monitor_page_with_results_and_state_changes(world, incident_a):
    response = signed_in(world.owner).get(reverse("front:monitor", args=[world.monitor_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The server did not answer in time" in html
    assert "Up → Down" in html
    assert len(response.context["results"]) == 100


def test_it_shows_an_incident_with_its_timeline(world, incident_a):
    response = signed_in(world.owner).get(reverse("front:incident", args=[incident_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Opened" in html and "Resolved" in html
    assert "4 min 12 s" in html
    assert "no answer within 10 s" in html


def test_it_lists_open_incidents_first(world, incident_a):
    still_open = Incident.objects.create(
        monitor=world.monitor_a,
        state=IncidentState.OPEN,
        opened_at=incident_a.opened_at - timedelta(days=3),
    )
    response = signed_in(world.owner).get(reverse("front:incidents"))
    listed = list(response.context["page"].object_list)
    assert listed[0] == still_open
    assert listed[1] == incident_a


def test_it_shows_the_client_page(world, incident_a):
    response = signed_in(world.client_a_user).get(reverse("front:client", args=[world.client_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Shop A" in html and "A hook" in html
    assert "Shop B" not in html


def test_it_builds_the_dashboard_in_a_fixed_number_of_queries(world):
    browser = signed_in(world.owner)
    browser.get(reverse("front:dashboard"))  # warm the session and content types
    with CaptureQueriesContext(connection) as before:
        browser.get(reverse("front:dashboard"))
    for i in range(5):
        site = Site.objects.create(client=world.client_a, name=f"Extra {i}", slug=f"extra-{i}")
        Monitor.objects.create(site=site, name="Home", kind=CheckKind.HTTP, url="https://x/")
    with CaptureQueriesContext(connection) as after:
        browser.get(reverse("front:dashboard"))
    assert len(after) == len(before)
