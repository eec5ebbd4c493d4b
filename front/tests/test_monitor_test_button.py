"""Test before saving: one check with the settings as typed, through the kind's own code and the
agency's network policy, shown with its timings; nothing saved. SSRF: loopback, private,
metadata addresses and redirects to them are refused unless the agency's allowlist admits them.

Non-loopback addresses are only ever named; the tripwire refuses any connect off loopback.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.urls import reverse

from front.tests.conftest import signed_in
from front.tests.monitor_posts import form_data
from monitoring.failures import FailureClass
from monitoring.models import CheckResult, Monitor
from monitoring.tests.loopback import NetLog, ToggleServer, install_tripwire

pytestmark = pytest.mark.django_db


@pytest.fixture
def netlog(monkeypatch: pytest.MonkeyPatch) -> NetLog:
    return install_tripwire(monkeypatch)


@pytest.fixture
def server():
    with ToggleServer() as running:
        yield running


class RedirectHandler(BaseHTTPRequestHandler):
    server: RedirectServer

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class RedirectServer(ThreadingHTTPServer):
    """Answers every request on 127.0.0.2 with a redirect to ``location``."""

    daemon_threads = True

    def __init__(self, location: str) -> None:
        super().__init__(("127.0.0.2", 0), RedirectHandler)
        self.location = location
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self) -> RedirectServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2)


def allow(world, networks: str) -> None:
    world.agency.ssrf_allowlist = networks
    world.agency.save()


def press_test(world, url: str, **typed: Any):
    """Press "Test now" on a new HTTP monitor's form."""
    data = form_data("http", name="Próba", url=url, timeout="3", **typed)
    data["kind"] = "http"
    browser = signed_in(world.owner)
    return browser.post(reverse("front:monitor_test", args=[world.site_a.pk]), data)


def test_it_runs_one_check_as_typed_and_saves_nothing(world, netlog, server):
    allow(world, "127.0.0.0/8")
    monitors, results = Monitor.objects.count(), CheckResult.objects.count()
    response = press_test(world, server.url("/shop"), keyword="healthy")
    trial = response.context["trial"]
    assert response.context["form"].errors == {}
    assert trial.ok and trial.outcome.status_code == 200
    assert trial.message.startswith("HTTP 200 in ")
    phases = dict(trial.timings)
    assert {"connect_ms", "ttfb_ms", "response_ms"} <= set(phases)
    page = response.content.decode()
    assert 'id="trial-result"' in page and "Time to first byte" in page
    assert server.hits["/shop"] == 1
    assert (Monitor.objects.count(), CheckResult.objects.count()) == (monitors, results)
    assert netlog.outside() == []


def test_it_shows_a_failed_check_with_its_reason(world, netlog, server):
    allow(world, "127.0.0.0/8")
    trial = press_test(world, server.url("/"), keyword="Do kasy").context["trial"]
    assert not trial.ok
    assert trial.outcome.failure_class == FailureClass.KEYWORD_MISSING
    assert "Do kasy" in trial.message


def test_it_tests_the_form_of_an_existing_monitor_without_changing_it(world, netlog, server):
    allow(world, "127.0.0.0/8")
    monitor = world.monitor_a
    data = form_data("http", monitor=monitor, url=server.url("/edit"), timeout="3")
    data["monitor"] = monitor.pk
    response = signed_in(world.engineer).post(
        reverse("front:monitor_test", args=[world.site_a.pk]), data
    )
    assert response.context["trial"].ok
    monitor.refresh_from_db()
    assert monitor.url == "https://a.example/"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::ffff:127.0.0.1]", "192.168.1.1"]
)
def test_it_refuses_a_literal_address_the_policy_denies_on_the_url_field(
    world, netlog, server, host
):
    port = server.server_address[1]
    response = press_test(world, f"http://{host}:{port}/latest/meta-data/")
    assert response.context["trial"] is None, "nothing is run"
    [message] = response.context["form"].errors["url"]
    assert "network policy" in message
    assert sum(server.hits.values()) == 0
    assert netlog.connects() == []


def test_it_refuses_a_name_that_resolves_to_loopback_at_connect_time(world, netlog, server):
    trial = press_test(world, f"http://localhost:{server.server_address[1]}/").context["trial"]
    assert not trial.ok
    assert trial.outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert sum(server.hits.values()) == 0


@pytest.mark.parametrize(
    "location",
    ["http://127.0.0.1:{port}/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"],
)
def test_it_refuses_a_redirect_to_a_denied_address(world, netlog, server, location):
    """Only the redirector (127.0.0.2) is admitted; where it sends the check is not."""
    allow(world, "127.0.0.2/32")
    target = location.format(port=server.server_address[1])
    with RedirectServer(target) as redirector:
        url = f"http://127.0.0.2:{redirector.server_address[1]}/"
        trial = press_test(world, url).context["trial"]
    assert not trial.ok
    assert trial.outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert sum(server.hits.values()) == 0
    assert netlog.outside() == []


def test_it_admits_loopback_when_the_allowlist_does(world, netlog, server):
    allow(world, "127.0.0.0/8")
    with RedirectServer(server.url("/landed")) as redirector:
        response = press_test(world, f"http://127.0.0.2:{redirector.server_address[1]}/")
    assert response.context["trial"].ok
    assert server.hits["/landed"] == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "169.254.169.254"])
def test_it_refuses_a_tcp_test_of_a_denied_address(world, netlog, server, host):
    data = form_data("tcp", name="Port", url=f"{host}:{server.server_address[1]}", timeout="3")
    data["kind"] = "tcp"
    response = signed_in(world.owner).post(
        reverse("front:monitor_test", args=[world.site_a.pk]), data
    )
    assert response.context["trial"] is None
    assert "network policy" in response.context["form"].errors["url"][0]
    assert netlog.connects() == []


def test_it_tests_a_tcp_port_the_allowlist_admits(world, netlog, server):
    allow(world, "127.0.0.0/8")
    data = form_data("tcp", name="Port", url=f"127.0.0.1:{server.server_address[1]}", timeout="3")
    data["kind"] = "tcp"
    response = signed_in(world.owner).post(
        reverse("front:monitor_test", args=[world.site_a.pk]), data
    )
    trial = response.context["trial"]
    assert trial.ok and "connect_ms" in dict(trial.timings)
