"""HTTP check options against real loopback servers: headers, body, JSON assertions, speed,
credentials, TLS settings, and the timing breakdown of each result."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import ssl

import pytest
from aiohttp import web
from pydantic import ValidationError

from monitoring.checks.http import Options, run
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind
from monitoring.tests.loopback import arun, self_signed_context, silent_server, web_server
from monitoring.tests.pki import Pki
from sitecare.lib.http import OutboundClient

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def target(url: str, timeout_s: float = 3.0, **config) -> CheckTarget:
    return CheckTarget(1, CheckKind.HTTP, url, config, 60, timeout_s, LOOPBACK)


def api() -> web.Application:
    """An API that answers JSON, slowly where asked."""

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "items": [{"price": 12}], "count": 3})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)  # before the headers: the first byte comes late
        return web.json_response({"status": "ok"})

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<h1>not json</h1>")

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/html", html)
    return app


async def check(path: str, **config):
    async with web_server(api()) as base, OutboundClient() as client:
        return await run(target(base + path, **config), client)


async def echoed(path: str = "/echo", **config) -> dict:
    """What the server received from one check with these options."""
    received: dict = {}

    async def record(request: web.Request) -> web.Response:
        received.update(
            method=request.method, headers=dict(request.headers), body=await request.text()
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/echo", record)
    async with web_server(app) as base, OutboundClient() as client:
        outcome = await run(target(base + path, **config), client)
    assert outcome.ok, outcome
    return received


# --- headers, body, credentials ----------------------------------------------------------


def test_it_sends_the_monitors_headers():
    got = arun(echoed(headers={"X-Check": "sitecare", "Accept": "application/json"}))
    assert got["headers"]["X-Check"] == "sitecare"
    assert got["headers"]["Accept"] == "application/json"


@pytest.mark.parametrize("name", ["Host", "Content-Length", "Transfer-Encoding", "Connection"])
def test_it_refuses_headers_the_client_must_set_naming_the_field(name):
    with pytest.raises(ValidationError) as caught:
        Options.model_validate({"headers": {name: "x"}})
    assert caught.value.errors()[0]["loc"] == ("headers",)


def test_it_refuses_a_header_value_with_a_line_break():
    with pytest.raises(ValidationError):
        Options.model_validate({"headers": {"X-A": "a\r\nHost: evil"}})


def test_it_posts_a_body():
    got = arun(echoed(method="POST", body='{"ping": 1}', headers={"Content-Type": "text/json"}))
    assert got["method"] == "POST"
    assert got["body"] == '{"ping": 1}'
    assert got["headers"]["Content-Type"] == "text/json"


def test_it_refuses_a_body_on_a_get_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        Options.model_validate({"body": "x"})
    assert caught.value.errors()[0]["loc"] == ("body",)


def test_it_drops_the_body_when_a_303_turns_the_post_into_a_get():
    async def scenario():
        seen: list[tuple[str, str]] = []

        async def see_other(request: web.Request) -> web.Response:
            seen.append((request.method, await request.text()))
            raise web.HTTPSeeOther("/done")

        async def done(request: web.Request) -> web.Response:
            seen.append((request.method, await request.text()))
            return web.Response(text="done")

        app = web.Application()
        app.router.add_post("/form", see_other)
        app.router.add_get("/done", done)
        async with web_server(app) as base, OutboundClient() as client:
            outcome = await run(target(base + "/form", method="POST", body="a=1"), client)
        return outcome, seen

    outcome, seen = arun(scenario())
    assert outcome.ok
    assert seen == [("POST", "a=1"), ("GET", "")]


def test_it_sends_basic_credentials():
    got = arun(echoed(basic_auth={"username": "agency", "password": "zażółć"}))
    expected = base64.b64encode("agency:zażółć".encode()).decode()
    assert got["headers"]["Authorization"] == f"Basic {expected}"


def test_it_sends_a_bearer_token():
    got = arun(echoed(bearer_token="s3cr3t"))
    assert got["headers"]["Authorization"] == "Bearer s3cr3t"


def test_it_refuses_two_kinds_of_credentials():
    with pytest.raises(ValidationError) as caught:
        Options.model_validate(
            {"basic_auth": {"username": "a", "password": "b"}, "bearer_token": "t"}
        )
    assert caught.value.errors()[0]["loc"] == ("bearer_token",)


def test_it_keeps_credentials_on_the_same_origin_but_not_across_a_redirect_elsewhere():
    """A redirect to another host must not carry the monitor's token there."""

    async def scenario():
        seen: dict[str, str | None] = {}

        async def landing(request: web.Request) -> web.Response:
            seen[request.host] = request.headers.get("Authorization")
            return web.Response(text="ok")

        other_app = web.Application()
        other_app.router.add_get("/", landing)
        async with web_server(other_app, host="127.0.0.2") as other:

            async def bounce(request: web.Request) -> web.Response:
                seen[request.host] = request.headers.get("Authorization")
                raise web.HTTPFound(other + "/")

            app = web.Application()
            app.router.add_get("/", bounce)
            async with web_server(app) as base, OutboundClient() as client:
                outcome = await run(target(base + "/", bearer_token="t0k"), client)
        return outcome, seen

    outcome, seen = arun(scenario())
    assert outcome.ok
    first, second = seen.values()
    assert first == "Bearer t0k"
    assert second is None


# --- JSON assertions and speed -------------------------------------------------------------


def test_it_is_up_when_every_json_assertion_holds():
    outcome = arun(
        check(
            "/status",
            json_assert=['$.status == "ok"', "$.items[0].price > 10", "$.count >= 1"],
        )
    )
    assert outcome.ok, outcome


def test_it_accepts_one_assertion_as_a_string():
    assert Options.model_validate({"json_assert": "$.ok == true"}).json_assert == ["$.ok == true"]


def test_it_is_down_with_assertion_failed_naming_the_assertion_and_the_value():
    outcome = arun(check("/status", json_assert='$.status == "maintenance"'))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert '$.status == "maintenance"' in outcome.message
    assert '"ok"' in outcome.message


def test_it_fails_an_assertion_on_a_body_that_is_not_json():
    outcome = arun(check("/html", json_assert='$.status == "ok"'))
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED


def test_it_refuses_a_bad_assertion_at_validation_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        Options.model_validate({"json_assert": ["$.status = 'ok'"]})
    assert caught.value.errors()[0]["loc"] == ("json_assert",)


def test_it_is_too_slow_when_an_otherwise_good_response_exceeds_the_maximum():
    outcome = arun(check("/slow", max_response_ms=100))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.TOO_SLOW
    assert outcome.status_code == 200
    assert "100" in outcome.message


def test_it_is_up_when_the_response_is_within_the_maximum():
    assert arun(check("/status", max_response_ms=5000)).ok


def test_it_reports_a_wrong_status_before_slowness():
    outcome = arun(check("/slow", max_response_ms=100, expected_status="500"))
    assert outcome.failure_class == FailureClass.HTTP_STATUS


# --- timing breakdown --------------------------------------------------------------------


def test_it_times_a_late_first_byte():
    outcome = arun(check("/slow"))
    assert outcome.ok
    assert outcome.ttfb_ms is not None and outcome.ttfb_ms >= 200
    assert outcome.response_ms is not None and outcome.response_ms >= outcome.ttfb_ms


def test_it_times_the_connect_of_a_fresh_connection_and_not_of_a_reused_one():
    async def scenario():
        async with web_server(api()) as base, OutboundClient() as client:
            first = await run(target(base + "/status"), client)
            second = await run(target(base + "/status"), client)
        return first, second

    first, second = arun(scenario())
    assert first.connect_ms is not None and first.connect_ms >= 0
    assert first.tls_ms is None  # plain HTTP
    assert first.dns_ms is None  # an IP literal needs no lookup
    assert second.connect_ms is None and second.dns_ms is None and second.tls_ms is None
    assert second.ttfb_ms is not None


def test_it_times_the_name_lookup_of_a_host_name():
    async def scenario():
        async with web_server(api()) as base, OutboundClient() as client:
            url = base.replace("127.0.0.1", "localhost") + "/status"
            return await run(target(url), client)

    outcome = arun(scenario())
    assert outcome.ok, outcome
    assert outcome.dns_ms is not None and outcome.dns_ms >= 0


def test_it_says_which_phase_a_timeout_stopped_in():
    async def scenario():
        async with silent_server() as url, OutboundClient() as client:
            return await run(target(url, timeout_s=0.5), client)

    outcome = arun(scenario())
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert outcome.details == {"phase": "wait"}
    assert outcome.connect_ms is not None  # the connect succeeded before the silence


# --- TLS: custom CA, no verification ---------------------------------------------------------


def private_ca_server_context(tmp_path) -> tuple[ssl.SSLContext, str]:
    """A server context whose certificate a private CA signed; returns it and the CA's PEM."""
    pki = Pki.create(tmp_path)
    return pki.server_context(), pki.ca_pem


def tls_check(server_context: ssl.SSLContext, **config):
    async def scenario():
        async with (
            web_server(api(), ssl_context=server_context) as base,
            OutboundClient() as client,
        ):
            return await run(target(base + "/status", **config), client)

    return arun(scenario())


def test_it_trusts_a_private_ca_given_as_pem_and_times_the_handshake(tmp_path):
    server_context, ca_pem = private_ca_server_context(tmp_path)
    outcome = tls_check(server_context, ca_pem=ca_pem)
    assert outcome.ok, outcome
    assert outcome.tls_ms is not None and outcome.tls_ms > 0
    assert outcome.connect_ms is not None
    assert outcome.ttfb_ms is not None and outcome.ttfb_ms >= outcome.tls_ms


def test_it_refuses_the_private_ca_without_its_pem(tmp_path):
    server_context, _ca_pem = private_ca_server_context(tmp_path)
    assert tls_check(server_context).failure_class == FailureClass.TLS_ERROR


def test_it_skips_verification_when_told_to(tmp_path):
    outcome = tls_check(self_signed_context(tmp_path), verify_tls=False)
    assert outcome.ok, outcome
    assert outcome.tls_ms is not None


def test_it_refuses_a_ca_pem_that_holds_no_certificate_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        Options.model_validate({"ca_pem": "-----BEGIN NOTHING-----"})
    assert caught.value.errors()[0]["loc"] == ("ca_pem",)


def test_it_keeps_todays_defaults_when_no_option_is_given():
    assert Options.model_validate({}).model_dump(exclude_defaults=True) == {}
