"""Every alert transport is held to the agency's network policy where its sockets connect and
send: HTTP, SMTP, TCP and UDP reach a real listener on loopback only when the allowlist admits
loopback; local schemes (syslog) are refused when saved and, if stored earlier, when sent."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from apprise.manager_plugins import NotificationManager
from django.urls import reverse

from api.tests.conftest import ApiCaller, field_errors
from front.tests.conftest import signed_in
from incidents.channel_schemes import ADMITTED_SCHEMES
from incidents.channels import send_test, validate_channel_url
from incidents.models import Channel
from incidents.tests.receivers import (
    SmtpReceiver,
    TcpListener,
    UdpListener,
    WebhookReceiver,
    point_channel,
    wait_until,
)
from tenancy.models import ApiToken

REFUSED = "Address 127.0.0.1 is not allowed by the network policy."


@dataclass
class Transport:
    """A real listener on 127.0.0.1 and the channel URL of one transport family pointing at it."""

    url: str
    arrived: Callable[[], list[Any]]
    # False for IRC: the bare listener speaks no IRC, so the message arrives but is not delivered.
    completes: bool = True


def _transport(family: str) -> tuple[Transport, Any]:
    if family == "http":
        webhook = WebhookReceiver().start()
        return Transport(webhook.url("/alerts"), lambda: webhook.requests), webhook
    if family == "smtp":
        smtp = SmtpReceiver().start()
        return Transport(smtp.url("ops@example.com"), lambda: smtp.messages), smtp
    if family == "tcp":
        tcp = TcpListener().start()
        url = f"irc://sitecare@127.0.0.1:{tcp.port}/#alerts"
        return Transport(url, lambda: tcp.received, completes=False), tcp
    udp = UdpListener().start()
    return Transport(f"rsyslog://127.0.0.1:{udp.port}", lambda: udp.datagrams), udp


@pytest.fixture(params=["http", "smtp", "tcp", "udp"])
def transport(request, settings) -> Iterator[Transport]:
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    found, listener = _transport(request.param)
    yield found
    listener.stop()


def _settle() -> None:
    """Give a datagram or connection that got out the time to arrive at its listener."""
    time.sleep(0.3)


def test_it_reaches_loopback_on_every_transport_only_when_the_allowlist_admits_it(world, transport):
    outcome = send_test(point_channel(world, transport.url, allowlist=""), by="engineer")
    _settle()
    assert (outcome.delivered, outcome.error) == (False, REFUSED)
    assert transport.arrived() == []
    outcome = send_test(point_channel(world, transport.url, allowlist="127.0.0.0/8"), by="engineer")
    assert wait_until(lambda: bool(transport.arrived()), timeout=5.0), outcome.error
    assert outcome.delivered is transport.completes


@pytest.mark.parametrize(
    ("host", "error"),
    [
        ("127.0.0.1", REFUSED),
        # A name the tenant wrote is named, not the address it resolves to.
        ("localhost", "The address of localhost is not allowed by the network policy."),
        # Stored before the rule, judged as when saved: refused before any lookup.
        ("2130706433", "2130706433 is an IPv4 address written in an unusual form"),
    ],
)
def test_it_refuses_a_remote_syslog_on_loopback_however_it_is_written(world, host, error):
    udp = UdpListener().start()
    try:
        channel = point_channel(world, f"rsyslog://{host}:{udp.port}", allowlist="")
        outcome = send_test(channel, by="engineer")
        _settle()
        assert outcome.delivered is False
        assert outcome.error.startswith(error)
        assert udp.datagrams == []
    finally:
        udp.stop()


@pytest.mark.parametrize("url", ["syslog://", "syslog://local5", "dbus://", "windows://"])
def test_it_refuses_local_schemes_when_saved(world, url):
    with pytest.raises(ValueError, match="does not send alerts to"):
        validate_channel_url(url)
    _token, raw = ApiToken.issue(world.owner, "tests")
    errors = field_errors(ApiCaller(raw).post("/channels", {"name": "Log", "url": url}))
    assert list(errors) == ["url"]
    assert not Channel.objects.filter(name="Log").exists()


def test_it_fails_visibly_when_a_stored_local_channel_is_sent_to(world):
    channel = point_channel(world, "syslog://", allowlist="127.0.0.0/8")
    outcome = send_test(channel, by="engineer")
    assert outcome.delivered is False
    assert "does not send alerts to syslog://" in outcome.error
    page = signed_in(world.engineer).get(reverse("front:channel", args=[channel.pk]))
    assert page.status_code == 200
    listing = signed_in(world.engineer).get(reverse("front:channels"))
    assert listing.status_code == 200


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("discord://1234/abcd?template=/etc/passwd", "template"),
        ("tgram://123456789:abcdefg_hijklmnop/12315544?template=file:///etc/passwd", "template"),
        ("mailto://user:pass@example.com?pgppub=/etc/passwd", "pgppub"),
    ],
)
def test_it_refuses_parameters_that_read_files_on_the_server(url, parameter):
    with pytest.raises(ValueError, match=f"The {parameter} parameter"):
        validate_channel_url(url)
    without = url.partition("?")[0]
    assert validate_channel_url(without) == without


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("rsyslog://2130706433:5140", "rsyslog://127.0.0.1:5140"),
        ("rsyslog://0x7f.1", "rsyslog://127.0.0.1"),
        ("json://2130706433:8000/", "json://127.0.0.1:8000/"),
        ("xml://0x7f000001/", "xml://127.0.0.1/"),
        (
            "mailto://u:p@2130706433?to=a@example.com&from=s@example.com",
            "mailto://u:p@127.0.0.1?to=a@example.com&from=s@example.com",
        ),
        ("irc://u@127.1/#alerts", "irc://u@127.0.0.1/#alerts"),
        ("ntfy://10.1/topic", "ntfy://10.0.0.1/topic"),
    ],
)
def test_it_refuses_a_channel_whose_host_is_an_ipv4_address_in_an_unusual_form(url, canonical):
    with pytest.raises(ValueError, match="written in an unusual form; write it as"):
        validate_channel_url(url)
    # Written plainly it is saved; the policy judges the address when sending.
    assert validate_channel_url(canonical) == canonical
    # Where that part of a URL is no host (a Telegram bot's id), digits are not refused.
    assert validate_channel_url("tgram://123456789:AAbbCCdd/12345")


def test_it_admits_only_schemes_the_installed_apprise_has():
    # A newer Apprise that drops or renames a scheme must be reviewed, not trusted blindly.
    assert ADMITTED_SCHEMES.issubset(NotificationManager().schemas())
    assert not ADMITTED_SCHEMES & {"syslog", "dbus", "windows", "macosx", "fcm", "vapid", "xmpp"}
