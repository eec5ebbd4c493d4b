"""Alert deliveries take nothing from the process environment: an HTTP(S)_PROXY would carry a
request to a target the guard never sees (it would judge only the proxy's address), and .netrc
credentials would be sent to whatever host a tenant names.

The "proxy" is a bare listener on 127.0.0.1: it records what arrives and forwards nothing; the
private target is only ever named, and the guard refuses it before any packet leaves (a
tripwire under the guard would stop it on the way out).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incidents.channels import send_test
from incidents.tests.receivers import TcpListener, WebhookReceiver, point_channel, wait_until
from incidents.tests.tripwire import install_delivery_tripwire

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")


@pytest.fixture
def proxy(monkeypatch, settings) -> Iterator[TcpListener]:
    """A loopback listener every proxy variable of the environment points at."""
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    listener = TcpListener().start()
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield listener
    listener.stop()


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("10.11.12.13:8080/hook", "10.11.12.13"),
        ("169.254.169.254/latest/meta-data", "169.254.169.254"),
    ],
)
def test_it_ignores_an_environment_proxy_the_agency_admits(world, proxy, monkeypatch, target, host):
    # Under the guard, nothing may leave loopback even if the guard were broken.
    reached = install_delivery_tripwire(monkeypatch).reached
    # The agency admits the proxy's address only (or the operator runs a loopback egress proxy).
    channel = point_channel(world, f"json://{target}", allowlist="127.0.0.1/32")
    outcome = send_test(channel, by="engineer")
    assert (outcome.delivered, outcome.error) == (
        False,
        f"Address {host} is not allowed by the network policy.",
    )
    assert reached == []  # neither the target nor the proxy
    assert not proxy.wait_for(1, timeout=0.3)
    assert proxy.received == []


def test_it_delivers_directly_while_a_proxy_is_set(world, proxy):
    webhook = WebhookReceiver().start()
    try:
        channel = point_channel(world, webhook.url("/direct"), allowlist="")
        outcome = send_test(channel, by="engineer")
        # Refused for loopback, as without the proxy: the proxy's address is not what is judged.
        assert outcome.error == "Address 127.0.0.1 is not allowed by the network policy."
        channel = point_channel(world, webhook.url("/direct"), allowlist="127.0.0.0/8")
        outcome = send_test(channel, by="engineer")
        assert outcome.delivered, outcome.error
        assert [r.path for r in webhook.requests] == ["/direct"]
        assert proxy.received == []
    finally:
        webhook.stop()


def test_it_sends_no_netrc_credentials(world, monkeypatch, tmp_path, settings):
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login operator password server-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    webhook = WebhookReceiver().start()
    try:
        channel = point_channel(world, webhook.url("/netrc"), allowlist="127.0.0.0/8")
        outcome = send_test(channel, by="engineer")
        assert outcome.delivered, outcome.error
        assert wait_until(lambda: bool(webhook.requests))
        assert "Authorization" not in webhook.requests[0].headers
    finally:
        webhook.stop()
