"""A heartbeat monitor's page as Healthchecks users know it: the full ping URL with a copy
button and ready examples, its schedule, where it stands (waiting for its first ping is not
up), its latest pings, and none of the HTTP-only fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from front.summaries import Status, monitor_status, worst_status
from front.tests.conftest import signed_in
from monitoring.checks import heartbeat
from monitoring.heartbeats import Ping, record_ping
from monitoring.models import CheckKind, Monitor, PingKind
from tenancy.models import Membership

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
BASE = "https://care.agency.example"


@pytest.fixture
def beat(world, settings):
    settings.SITECARE_BASE_URL = BASE
    return Monitor.objects.create(
        site=world.site_a,
        name="Nightly backup",
        kind=CheckKind.HEARTBEAT,
        url=heartbeat.new_token(),
        config={"cron": "30 2 * * *", "time_zone": "Europe/Warsaw", "grace": 900},
        created_at=NOW - timedelta(hours=1),
    )


def _page(user, monitor: Monitor, language: str = "en") -> str:
    Membership.objects.filter(user=user).update(language=language)
    with time_machine.travel(NOW, tick=False):
        response = signed_in(user).get(reverse("front:monitor", args=[monitor.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_ping_url_with_a_copy_button_and_ready_examples(world, beat):
    html = _page(world.owner, beat)
    url = f"{BASE}/ping/{beat.url}"
    assert f'value="{url}"' in html
    assert 'data-copy="#ping-url"' in html and "/static/js/sitecare.js" in html
    assert f"curl -fsS -m 10 --retry 5 -o /dev/null {url}" in html
    assert "CRON_TZ=Europe/Warsaw\n30 2 * * * /path/to/job.sh &amp;&amp; curl" in html
    assert f"{url}/start\n/path/to/job.sh\n" in html and f"{url}/$?" in html
    assert f"{url}/fail" in html
    assert "then /&lt;exit status&gt; (0 is success" in html  # told, not swallowed as a tag
    assert "<code>30 2 * * *</code> · Europe/Warsaw" in html
    assert "<dt>Grace time</dt><dd>15 min</dd>" in html


def test_it_says_a_heartbeat_never_pinged_is_waiting_not_up(world, beat):
    html = _page(world.owner, beat)
    assert "Waiting for first ping" in html  # the page's badge
    assert "Waiting for its first ping" in html  # its standing
    assert "badge--up" not in html
    assert "First ping expected by" in html
    # The first run is at 02:30 in Warsaw (01:30 UTC), 15 min of grace: shown in Warsaw time.
    assert (
        'datetime="2026-12-08T02:45:00+01:00" id="heartbeat-expected">8 Dec 2026, 02:45:00' in html
    )


def test_it_leaves_out_the_http_only_fields_and_chart(world, beat):
    html = _page(world.owner, beat)
    for text in ("Checked every", "Timeout", "Last response", "Response time, last 24 hours"):
        assert text not in html
    http = _page(world.owner, world.monitor_a)
    assert "Checked every" in http and "Response time, last 24 hours" in http
    assert "ping-url" not in http


def test_it_lists_the_latest_pings_with_their_details(world, beat):
    with time_machine.travel(NOW - timedelta(minutes=30), tick=False):
        record_ping(
            beat.pk,
            beat.url,
            Ping(kind=PingKind.START, remote_addr="203.0.113.5", user_agent="curl/8.5.0"),
        )
    with time_machine.travel(NOW - timedelta(minutes=20), tick=False):
        record_ping(
            beat.pk,
            beat.url,
            Ping(
                kind=PingKind.FAIL,
                exit_code=3,
                remote_addr="203.0.113.5",
                user_agent="curl/8.5.0",
                body="<b>tar: disk full</b>",
            ),
        )
    html = _page(world.owner, beat)
    assert html.count("203.0.113.5") == 2 and "curl/8.5.0" in html
    assert "Exit code 3" in html and "The job reported a failure" in html
    assert "ran 10 min" in html  # the failure ended the run started ten minutes before
    assert "&lt;b&gt;tar: disk full&lt;/b&gt;" in html  # bodies are text, escaped
    assert "Waiting for first ping" not in html
    # 09:40 UTC is 10:40 in Warsaw, the viewer's zone.
    assert "10:40:00" in html


def test_it_speaks_polish_on_the_heartbeat_page(world, beat):
    html = _page(world.owner, beat, language="pl")
    assert "Czeka na pierwszy sygnał" in html
    assert "Kopiuj" in html and "Przykłady" in html


def test_it_shows_the_page_to_the_client_and_hides_it_from_other_clients(world, beat):
    assert f"{BASE}/ping/{beat.url}" in _page(world.client_a_user, beat)
    response = signed_in(world.client_b_user).get(reverse("front:monitor", args=[beat.pk]))
    assert response.status_code == 404
    assert beat.url not in response.content.decode()


def test_it_counts_a_site_with_a_waiting_heartbeat_as_no_data_not_up(world, beat):
    Monitor.objects.filter(pk=world.monitor_a.pk).update(state="up")
    Monitor.objects.filter(pk=beat.pk).update(state="up")  # the verdict before any deadline
    monitors = list(Monitor.objects.filter(site=world.site_a))
    beat.refresh_from_db()
    assert monitor_status(beat) == Status.WAITING
    assert worst_status(monitors) == Status.UNKNOWN
    Monitor.objects.filter(pk=beat.pk).update(first_ping_at=NOW)
    assert worst_status(list(Monitor.objects.filter(site=world.site_a))) == Status.UP


def test_it_leaves_the_response_chart_and_token_off_the_site_page_for_a_heartbeat(world, beat):
    Monitor.objects.filter(pk=world.monitor_a.pk).delete()
    with time_machine.travel(NOW, tick=False):
        html = signed_in(world.owner).get(reverse("front:site", args=[world.site_a.pk]))
    text = html.content.decode()
    assert "Nightly backup" in text and "Waiting for first ping" in text
    assert "Response time, last 24 hours" not in text and "Last response" not in text
    assert beat.url not in text
