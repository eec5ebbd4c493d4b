"""The HTTP(S) check against real servers on loopback: each failure class, and success."""

from __future__ import annotations

import asyncio
import ipaddress
import time

import pytest
from aiohttp import web
from pydantic import ValidationError

from monitoring.checks import RUNNERS
from monitoring.checks.http import Options, run
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind
from monitoring.tests.loopback import (
    arun,
    closing_server,
    free_port,
    raw_server,
    self_signed_context,
    silent_server,
    web_server,
)
from sitecare.lib.http import OutboundClient

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
BIG = b"x" * 10_000


def target(url: str, timeout_s: float = 3.0, **config) -> CheckTarget:
    return CheckTarget(
        monitor_id=1,
        kind=CheckKind.HTTP,
        url=url,
        config=config,
        interval_s=60,
        timeout_s=timeout_s,
        allowlist=LOOPBACK,
    )


def shop() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text="<h1>Shop</h1><button>Add to cart</button>")

    async def error(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal error")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG)

    async def big_streamed(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # chunked: no Content-Length to refuse early
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"y" * 1000)
        await resp.write_eof()
        return resp

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/error", error)
    app.router.add_get("/big", big)
    app.router.add_get("/big-streamed", big_streamed)
    app.router.add_get("/loop", loop)
    app.router.add_get("/hop", hop)
    return app


async def check(url_path: str, outbound: OutboundClient | None = None, **config):
    async with web_server(shop()) as base, outbound or OutboundClient() as client:
        return await run(target(base + url_path, **config), client)


def test_it_registers_the_http_runner():
    assert RUNNERS[CheckKind.HTTP] is run


def test_it_is_up_on_200_with_status_and_response_time():
    outcome = arun(check("/"))
    assert outcome.ok, outcome
    assert outcome.status_code == 200
    assert outcome.failure_class == FailureClass.NONE
    assert outcome.response_ms is not None and outcome.response_ms >= 0
    assert outcome.monitor_id == 1


def test_it_follows_a_redirect_and_judges_the_final_page():
    outcome = arun(check("/hop", keyword="Add to cart"))
    assert outcome.ok and outcome.status_code == 200


def test_it_reports_the_redirect_itself_when_told_not_to_follow():
    outcome = arun(check("/hop", follow_redirects=False, expected_status="200"))
    assert not outcome.ok
    assert outcome.status_code == 301
    assert outcome.failure_class == FailureClass.HTTP_STATUS


def test_it_is_down_on_500_with_http_status():
    outcome = arun(check("/error"))
    assert not outcome.ok
    assert outcome.status_code == 500
    assert outcome.failure_class == FailureClass.HTTP_STATUS
    assert "500" in outcome.message


def test_it_accepts_500_when_that_is_the_expected_status():
    assert arun(check("/error", expected_status="500")).ok


def test_it_finds_a_keyword_that_must_be_present():
    assert arun(check("/", keyword="Add to cart")).ok


def test_it_is_down_when_the_keyword_is_missing():
    outcome = arun(check("/", keyword="Sold out"))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.KEYWORD_MISSING
    assert "Sold out" in outcome.message


def test_it_is_down_when_a_forbidden_keyword_appears():
    outcome = arun(check("/", keyword="Add to cart", keyword_mode="absent"))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.KEYWORD_FOUND


def test_it_is_up_when_a_forbidden_keyword_is_absent():
    assert arun(check("/", keyword="Fatal error", keyword_mode="absent")).ok


def test_it_classifies_a_server_that_never_answers_as_timeout_within_the_timeout():
    async def scenario():
        async with silent_server() as url, OutboundClient() as client:
            started = time.monotonic()
            outcome = await run(target(url, timeout_s=1.0), client)
            return outcome, time.monotonic() - started

    outcome, elapsed = arun(scenario())
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert not outcome.ok
    assert 0.9 <= elapsed < 2.0


def test_it_classifies_a_closed_port_as_connection_refused():
    async def scenario():
        async with OutboundClient() as client:
            return await run(target(f"http://127.0.0.1:{free_port()}/"), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED
    assert outcome.status_code is None


def test_it_classifies_a_dropped_connection_as_connection_reset():
    async def scenario():
        async with closing_server() as url, OutboundClient() as client:
            return await run(target(url), client)

    assert arun(scenario()).failure_class == FailureClass.CONNECTION_RESET


def test_it_classifies_garbage_instead_of_http_as_invalid_response():
    async def scenario():
        async with raw_server(b"SMTP ready, not HTTP\r\n\r\n") as url, OutboundClient() as client:
            return await run(target(url), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.INVALID_RESPONSE
    assert not outcome.ok


@pytest.mark.parametrize("path", ["/big", "/big-streamed"])
def test_it_refuses_a_body_over_the_cap(path):
    outcome = arun(check(path, outbound=OutboundClient(max_body_bytes=4096)))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.BODY_TOO_LARGE


def test_it_reads_a_body_under_the_cap():
    assert arun(check("/big", outbound=OutboundClient(max_body_bytes=len(BIG)))).ok


def test_it_stops_a_redirect_loop_as_too_many_redirects(settings):
    settings.SITECARE_ENGINE_MAX_REDIRECTS = 3
    outcome = arun(check("/loop"))
    assert outcome.failure_class == FailureClass.TOO_MANY_REDIRECTS
    assert "3" in outcome.message


def test_it_classifies_a_self_signed_certificate_as_tls_error(tmp_path):
    async def scenario():
        app = shop()
        tls = self_signed_context(tmp_path)
        async with web_server(app, ssl_context=tls) as base, OutboundClient() as client:
            return await run(target(base + "/"), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.TLS_ERROR
    assert not outcome.ok


def test_it_classifies_an_unresolvable_name_as_dns_error_without_asking_dns(netlog):
    async def scenario():
        async with OutboundClient() as client:
            return await run(target("http://no-such-shop.invalid/"), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "no-such-shop.invalid" in outcome.message
    assert netlog.lookups == []  # RFC 6761: .invalid is answered locally, never queried


def test_it_reports_stored_options_that_no_longer_validate():
    async def scenario():
        async with OutboundClient() as client:
            return await run(target("http://127.0.0.1:9/", bogus=True), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.INTERNAL_ERROR
    assert "bogus" in outcome.message


def test_it_cuts_the_whole_exchange_at_the_timeout_even_across_redirects():
    async def scenario():
        async def slow_hop(request: web.Request) -> web.Response:
            await asyncio.sleep(0.4)
            raise web.HTTPFound("/slow")

        app = web.Application()
        app.router.add_get("/slow", slow_hop)
        async with web_server(app) as base, OutboundClient() as client:
            started = time.monotonic()
            outcome = await run(target(base + "/slow", timeout_s=1.0), client)
            return outcome, time.monotonic() - started

    outcome, elapsed = arun(scenario())
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert elapsed < 2.0


def test_it_refuses_a_keyword_on_a_head_check_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        Options.model_validate({"method": "HEAD", "keyword": "Add to cart"})
    assert caught.value.errors()[0]["loc"] == ("keyword",)


def test_it_checks_with_head_without_reading_a_body():
    outcome = arun(check("/", method="HEAD"))
    assert outcome.ok and outcome.status_code == 200
