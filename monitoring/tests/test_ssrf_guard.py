"""The SSRF guard (acceptance): denied addresses are refused at connect time, with one message,
before any socket exists: directly, through host names, and through redirects.

Non-loopback addresses are only ever *named* here. The ``netlog`` tripwire records every
connect at the lowest layer (just before ``socket.connect``) and refuses anything that would
leave loopback, so even a broken guard could not send a packet outside.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from monitoring.checks.http import run
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import CheckKind, CheckResult, Monitor
from monitoring.tests.loopback import (
    CountingListener,
    arun,
    ipv6_loopback_available,
    needs_ipv6,
    web_server,
)
from sitecare.lib.http import OutboundClient, allowlist_key
from sitecare.lib.netpolicy import blocked_message

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
REDIRECTOR_ONLY = (ipaddress.ip_network("127.0.0.2/32"),)


def check(url: str, allowlist=()) -> Outcome:
    target = CheckTarget(
        monitor_id=7,
        kind=CheckKind.HTTP,
        url=url,
        config={},
        interval_s=60,
        timeout_s=3.0,
        allowlist=tuple(allowlist),
    )

    async def scenario():
        async with OutboundClient() as client:
            return await run(target, client)

    return arun(scenario())


def loopback_url(host: str, port: int) -> str:
    return f"http://{host}:{port}/"


@pytest.mark.parametrize(
    ("listen_on", "url_host", "refused_address"),
    [
        ("127.0.0.1", "127.0.0.1", "127.0.0.1"),
        pytest.param("::1", "[::1]", "::1", marks=needs_ipv6),
        ("127.0.0.1", "[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("127.0.0.1", "localhost", "127.0.0.1"),
    ],
)
def test_it_refuses_loopback_with_an_empty_allowlist_and_the_listener_sees_nothing(
    netlog, listen_on, url_host, refused_address
):
    with CountingListener(listen_on) as listener:
        outcome = check(loopback_url(url_host, listener.port))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    # A name is named, never the address it resolved to.
    assert outcome.message == blocked_message(refused_address, url_host)
    if url_host == "localhost":
        assert outcome.message == "The address of localhost is not allowed by the network policy."
    assert listener.accepted == 0
    assert netlog.connects() == []
    assert ("refuse", refused_address) in netlog.events


@pytest.mark.parametrize(
    ("listen_on", "url_host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        pytest.param("::1", "[::1]", marks=needs_ipv6),
        ("127.0.0.1", "[::ffff:127.0.0.1]"),
        ("127.0.0.1", "localhost"),
    ],
)
def test_it_connects_when_the_allowlist_admits_loopback(netlog, listen_on, url_host):
    with CountingListener(listen_on) as listener:
        outcome = check(loopback_url(url_host, listener.port), LOOPBACK)
    assert outcome.ok, outcome
    assert listener.accepted == 1
    # The guard decided before the connect happened.
    kinds = [kind for kind, _address in netlog.events]
    assert kinds.index("allow") < kinds.index("connect")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:10.0.0.1]/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[fec0::1]/",  # site-local IPv6, deprecated but still routed in places
        "http://192.88.99.1/",  # the 6to4 relay anycast prefix
        "http://[2002:c058:6301::1]/",  # the same, through 6to4
    ],
)
def test_it_refuses_private_and_metadata_addresses_before_any_socket_exists(netlog, url):
    outcome = check(url, LOOPBACK)  # admitting loopback must not admit anything else
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    refused = [address for kind, address in netlog.events if kind == "refuse"]
    assert refused and outcome.message == blocked_message(refused[0])
    assert netlog.connects() == []
    assert netlog.outside() == []


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/",
        pytest.param("http://[::1]:{port6}/", marks=needs_ipv6),
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://localhost:{port}/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_it_refuses_a_redirect_to_a_denied_address(netlog, location):
    """The redirector (127.0.0.2, the only admitted address) sends the check elsewhere."""
    v6_host = "::1" if ipv6_loopback_available() else "127.0.0.1"
    with CountingListener("127.0.0.1") as v4, CountingListener(v6_host) as v6:
        target_url = location.format(port=v4.port, port6=v6.port)

        async def scenario():
            async def bounce(request: web.Request) -> web.Response:
                raise web.HTTPFound(target_url)

            app = web.Application()
            app.router.add_get("/", bounce)
            async with web_server(app, host="127.0.0.2") as base, OutboundClient() as client:
                target = CheckTarget(7, CheckKind.HTTP, base + "/", {}, 60, 3.0, REDIRECTOR_ONLY)
                return await run(target, client)

        outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    refused = [address for kind, address in netlog.events if kind == "refuse"]
    # A name is named, never the address it resolved to.
    assert outcome.message == blocked_message(refused[0], urlsplit(target_url).hostname)
    assert v4.accepted == 0 and v6.accepted == 0
    assert netlog.connects() == ["127.0.0.2"]


def test_it_never_reuses_a_connection_opened_under_another_allowlist(netlog):
    """A keep-alive connection opened under a loopback allowlist must not serve a tenant
    whose allowlist is empty: each policy has its own pool."""

    async def scenario():
        async def ok(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/", ok)
        async with web_server(app) as base, OutboundClient() as client:
            first = await client.fetch(base + "/", allowlist=LOOPBACK, timeout_s=3)
            again = await run(CheckTarget(7, CheckKind.HTTP, base + "/", {}, 60, 3.0, ()), client)
            return first, again

    first, again = arun(scenario())
    assert first.status == 200
    assert again.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert len(netlog.connects()) == 1


def test_it_keys_sessions_by_the_set_of_networks():
    a, b = ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")
    assert allowlist_key([a, b]) == allowlist_key([b, a, a])
    assert allowlist_key([]) != allowlist_key([a])

    async def scenario():
        async with OutboundClient() as client:
            return (
                client.session_for([a, b]) is client.session_for((b, a)),
                client.session_for(()) is client.session_for([]),
                client.session_for(()) is client.session_for([a]),
            )

    assert arun(scenario()) == (True, True, False)


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_tenant_monitor_through_the_engine_and_stores_the_one_message(world, netlog):
    """End to end: the agency's allowlist is empty; its monitor points at a local listener."""
    Monitor.objects.filter(pk__in=[world.monitor_a.pk, world.monitor_b.pk]).update(enabled=False)
    with CountingListener("127.0.0.1") as listener:
        monitor = Monitor.objects.create(
            site=world.site_a,
            name="Sneaky",
            kind=CheckKind.HTTP,
            url=f"http://127.0.0.1:{listener.port}/",
            interval_s=1,
            timeout_s=1,
        )
        config = EngineConfig.from_settings(flush_seconds=0.1, reload_seconds=0.2)
        engine = ProbeEngine(config)
        arun(engine.run(duration=1.5))
    results = list(CheckResult.objects.filter(monitor=monitor))
    assert results
    assert {r.failure_class for r in results} == {FailureClass.BLOCKED_BY_POLICY}
    assert {r.message for r in results} == {blocked_message("127.0.0.1")}
    assert listener.accepted == 0
    assert netlog.connects() == []


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.0.0.1", "017700000001"])
def test_it_never_connects_to_legacy_numeric_forms_of_loopback(netlog, host):
    with CountingListener("127.0.0.1") as listener:
        outcome = check(f"http://{host}:{listener.port}/")
    assert not outcome.ok
    assert outcome.failure_class in (FailureClass.BLOCKED_BY_POLICY, FailureClass.INVALID_RESPONSE)
    assert listener.accepted == 0
    assert netlog.connects() == []
