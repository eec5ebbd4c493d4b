"""The TLS certificate check against TLS servers on loopback with certificates made here.

A local CA signs the leaves the servers present (good, expired, wrong-host, expiring soon);
the monitors trust it through ``ca_pem``. Hostile targets: a self-signed leaf, a server that
accepts and never answers the handshake, a closed port, an address the policy denies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import random
import ssl
import time
from contextlib import asynccontextmanager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from monitoring.checks import RUNNERS
from monitoring.checks.tls import Options, certificate_matches, run
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, CheckResult, Monitor
from monitoring.spec import parse_monitor
from monitoring.tests.loopback import CountingListener, arun, free_port, silent_server
from monitoring.tests.pki import Pki, alt_names, cert_name
from monitoring.tests.test_tcp_check import blackhole
from sitecare.lib.http import OutboundClient
from sitecare.lib.netpolicy import blocked_message

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


@asynccontextmanager
async def tls_server(context: ssl.SSLContext, host: str = "127.0.0.1"):
    """A TLS server on loopback that completes handshakes and closes; yield its port."""

    async def close(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(close, host, 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def target(url: str, timeout_s: float = 3.0, allowlist=LOOPBACK, **config) -> CheckTarget:
    return CheckTarget(
        monitor_id=3,
        kind=CheckKind.TLS,
        url=url,
        config=config,
        interval_s=60,
        timeout_s=timeout_s,
        allowlist=tuple(allowlist),
    )


def check_server(context: ssl.SSLContext, host: str = "127.0.0.1", **config):
    """Run one check against a TLS server presenting ``context``'s certificate."""

    async def scenario():
        async with tls_server(context) as port, OutboundClient() as client:
            return await run(target(f"{host}:{port}", **config), client)

    return arun(scenario())


# --- certificates ---------------------------------------------------------------------------


def test_it_registers_the_tls_runner():
    assert RUNNERS[CheckKind.TLS] is run


def test_it_is_up_with_the_facts_of_a_good_certificate(pki):
    outcome = check_server(pki.server_context(), ca_pem=pki.ca_pem)
    assert outcome.ok, outcome
    assert outcome.failure_class == FailureClass.NONE
    details = outcome.details
    assert details is not None
    assert 89 < details["days_left"] <= 90
    assert "Sitecare Test CA" in details["issuer"]
    assert details["subject"] == "CN=localhost"
    assert details["sans"] == ["localhost", "127.0.0.1"]
    assert details["protocol"] == "TLSv1.3" and details["cipher"]
    assert "warning" not in details and "problem" not in details
    assert outcome.connect_ms is not None and outcome.tls_ms is not None
    assert outcome.response_ms is not None and outcome.response_ms >= outcome.tls_ms
    assert "89 more days" in outcome.message


def test_it_checks_a_host_name_target_on_its_dns_name(pki):
    assert check_server(pki.server_context(), host="localhost", ca_pem=pki.ca_pem).ok


def test_it_is_down_on_an_expired_certificate_and_says_since_when(pki):
    outcome = check_server(pki.server_context(days_left=-3), ca_pem=pki.ca_pem)
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "expired"
    assert "expired 3 days ago" in outcome.message
    assert outcome.details["days_left"] < -2.9


def test_it_is_down_on_a_self_signed_certificate(pki):
    outcome = check_server(pki.server_context(self_signed=True), ca_pem=pki.ca_pem)
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "self_signed"
    assert "self-signed" in outcome.message
    assert outcome.details["self_signed"] is True


def test_it_does_not_trust_a_private_ca_without_ca_pem(pki):
    outcome = check_server(pki.server_context())
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "untrusted_chain"


def test_it_is_down_on_a_certificate_for_another_host_and_names_what_it_covers(pki):
    context = pki.server_context(("shop.example", "www.shop.example"))
    outcome = check_server(context, host="localhost", ca_pem=pki.ca_pem)
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "hostname_mismatch"
    assert "localhost" in outcome.message and "www.shop.example" in outcome.message


def test_it_accepts_another_host_when_the_hostname_check_is_off(pki):
    context = pki.server_context(("shop.example",))
    assert check_server(context, ca_pem=pki.ca_pem, check_hostname=False).ok


def test_it_sends_and_checks_the_server_name_override(pki):
    context = pki.server_context(("shop.example",))
    assert check_server(context, ca_pem=pki.ca_pem, server_name="shop.example").ok


def test_it_is_down_within_the_critical_days(pki):
    outcome = check_server(pki.server_context(days_left=5), ca_pem=pki.ca_pem)
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "expiring"
    assert "expires in 4 days" in outcome.message


def test_it_is_up_with_a_warning_within_the_warning_days(pki):
    outcome = check_server(pki.server_context(days_left=15), ca_pem=pki.ca_pem)
    assert outcome.ok
    assert "expires in 14 days" in outcome.details["warning"]


def test_it_follows_the_monitor_thresholds(pki):
    context = pki.server_context(days_left=15)
    assert not check_server(context, ca_pem=pki.ca_pem, warn_days=30, critical_days=20).ok


def test_it_still_judges_expiry_when_the_chain_check_is_off(pki):
    self_signed = pki.server_context(self_signed=True)
    outcome = check_server(self_signed, check_chain=False)
    assert outcome.ok, outcome
    assert outcome.details["self_signed"] is True
    expired = pki.server_context(self_signed=True, days_left=-1)
    outcome = check_server(expired, check_chain=False)
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "expired"


def test_it_checks_the_host_name_itself_when_the_chain_check_is_off(pki):
    context = pki.server_context(("shop.example",), self_signed=True)
    outcome = check_server(context, host="localhost", check_chain=False)
    assert outcome.details["problem"] == "hostname_mismatch"
    assert check_server(context, check_chain=False, check_hostname=False).ok


def test_it_fails_the_handshake_below_the_minimum_version(pki):
    context = pki.server_context(max_version=ssl.TLSVersion.TLSv1_2)
    outcome = check_server(context, ca_pem=pki.ca_pem, min_version="TLS1.3")
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert outcome.details["problem"] == "handshake"
    assert check_server(context, ca_pem=pki.ca_pem).details["protocol"] == "TLSv1.2"


@pytest.mark.parametrize(
    ("names", "host", "matches"),
    [
        (("*.shop.example",), "www.shop.example", True),
        (("*.shop.example",), "shop.example", False),
        (("*.shop.example",), "a.b.shop.example", False),
        (("Shop.Example",), "shop.example", True),
        (("127.0.0.1",), "127.0.0.1", True),
        (("localhost",), "127.0.0.1", False),
    ],
)
def test_it_matches_host_names_like_a_browser(pki, names, host, matches):
    cert = x509.CertificateBuilder().add_extension(alt_names(names), critical=False)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    signed = (
        cert.subject_name(cert_name("x"))
        .issuer_name(cert_name("x"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert certificate_matches(signed, host) is matches


# --- hostile targets ------------------------------------------------------------------------


def test_it_times_out_in_the_handshake_phase_when_the_server_never_answers():
    async def scenario():
        async with silent_server() as url, OutboundClient() as client:
            port = url.rsplit(":", 1)[1].strip("/")
            started = time.monotonic()
            outcome = await run(target(f"127.0.0.1:{port}", timeout_s=1.0), client)
            return outcome, time.monotonic() - started

    outcome, elapsed = arun(scenario())
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert outcome.details["phase"] == "tls"
    assert "during the TLS handshake" in outcome.message
    assert elapsed < 2.0


def test_it_times_out_in_the_connect_phase_when_packets_are_dropped():
    async def scenario(port: int):
        async with OutboundClient() as client:
            started = time.monotonic()
            outcome = await run(target(f"127.0.0.1:{port}", timeout_s=1.0), client)
            return outcome, time.monotonic() - started

    with blackhole() as port:
        outcome, elapsed = arun(scenario(port))
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert outcome.details["phase"] == "connect"
    assert "while connecting" in outcome.message
    assert elapsed < 2.0


def test_it_is_connection_refused_on_a_closed_port():
    async def scenario():
        async with OutboundClient() as client:
            return await run(target(f"127.0.0.1:{free_port()}"), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED
    assert outcome.details["phase"] == "connect"


def test_it_is_a_dns_error_when_the_name_does_not_resolve(netlog):
    async def scenario():
        async with OutboundClient() as client:
            return await run(target("shop.invalid"), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "shop.invalid" in outcome.message
    assert netlog.lookups == [] and netlog.connects() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_it_refuses_loopback_with_an_empty_allowlist_and_the_listener_sees_nothing(netlog, host):
    async def scenario(port: int):
        async with OutboundClient() as client:
            return await run(target(f"{host}:{port}", allowlist=()), client)

    with CountingListener() as listener:
        outcome = arun(scenario(listener.port))
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    # A name is named, never the address it resolved to (127.0.0.1 or ::1).
    assert outcome.message == blocked_message("127.0.0.1", host)
    assert listener.accepted == 0
    assert netlog.connects() == []


def test_it_refuses_a_private_address_even_when_loopback_is_allowed(netlog):
    async def scenario():
        async with OutboundClient() as client:
            return await run(target("10.0.0.1:443"), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert outcome.message == blocked_message("10.0.0.1")
    assert netlog.connects() == []


# --- definitions ----------------------------------------------------------------------------


def errors_of(data: dict, allowlist=()) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_monitor(data, list(allowlist))
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("shop.example", "shop.example"),
        ("Shop.Example:443", "shop.example"),
        ("shop.example:8443", "shop.example:8443"),
        ("[2606:4700::1]", "[2606:4700::1]:443"),
        ("[2606:4700::1]:8443", "[2606:4700::1]:8443"),
        ("sklep.łódź.pl", "sklep.xn--d-uga0v4h.pl"),
    ],
)
def test_it_normalizes_tls_targets(url, stored):
    definition = parse_monitor({"name": "Cert", "kind": "tls", "url": url}, [])
    assert definition.common.url == stored


def test_it_stores_only_the_options_that_differ_from_the_defaults(pki):
    data = {"name": "Cert", "kind": "tls", "url": "shop.example", "warn_days": 30}
    data["ca_pem"] = pki.ca_pem
    assert parse_monitor(data, []).options == {"warn_days": 30, "ca_pem": pki.ca_pem}


@pytest.mark.parametrize(
    "url", ["https://shop.example/", "shop example", "shop.example:0", "2001:db8::1", "[::1"]
)
def test_it_names_the_url_field_for_a_bad_target(url):
    errs = errors_of({"name": "x", "kind": "tls", "url": url})
    assert list(errs) == ["url"]


def test_it_names_each_bad_option():
    errs = errors_of(
        {
            "name": "x",
            "kind": "tls",
            "url": "shop.example",
            "warn_days": 5,
            "critical_days": 10,
            "min_version": "SSL3",
            "ca_pem": "not a certificate",
            "expiry": 3,
        }
    )
    assert set(errs) == {"critical_days", "min_version", "ca_pem", "expiry"}
    assert "Extra inputs" in errs["expiry"]


def test_it_refuses_a_literal_private_address_on_the_url_field():
    errs = errors_of({"name": "x", "kind": "tls", "url": "10.0.0.1:443"})
    assert list(errs) == ["url"]
    assert "not allowed by the network policy" in errs["url"]


def test_it_reports_invalid_stored_options_as_an_internal_error():
    async def scenario():
        async with OutboundClient() as client:
            return await run(target("shop.example", warn_days="soon"), client)

    assert arun(scenario()).failure_class == FailureClass.INTERNAL_ERROR


def test_it_defaults_to_a_verified_tls12_check():
    options = Options()
    assert (options.check_chain, options.check_hostname, options.min_version) == (
        True,
        True,
        "TLS1.2",
    )


# --- through the engine ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_tls_monitor_through_the_engine_and_stores_its_facts(world, pki):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.update(enabled=False)
    context = pki.server_context(days_left=15)
    probe = ProbeEngine(
        EngineConfig.from_settings(flush_seconds=0.1, reload_seconds=0.2, stop_grace_seconds=2.0),
        random.Random(7),
    )

    async def scenario():
        async with tls_server(context) as port:
            monitor = await probe.run_in_db(
                lambda: Monitor.objects.create(
                    site=world.site_a,
                    name="Certificate",
                    kind=CheckKind.TLS,
                    url=f"127.0.0.1:{port}",
                    interval_s=1,
                    timeout_s=2,
                    config={"ca_pem": pki.ca_pem},
                )
            )
            runner = asyncio.create_task(probe.run())
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 8
            while loop.time() < deadline:
                stored = await probe.run_in_db(CheckResult.objects.filter(monitor=monitor).exists)
                if stored:
                    break
                await asyncio.sleep(0.1)
            probe.request_stop()
            await runner
            return monitor

    monitor = arun(scenario())
    result = CheckResult.objects.filter(monitor=monitor).first()
    assert result is not None and result.ok, result and result.message
    assert result.tls_ms is not None and result.connect_ms is not None
    details = result.details or {}
    assert details["protocol"] == "TLSv1.3"
    assert "expires in 14 days" in details["warning"]
