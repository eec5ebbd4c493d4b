"""The domain expiry check against a local RDAP server (time pinned for the day counts)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import Counter

import pytest
import time_machine
from aiohttp import web
from pydantic import ValidationError

from monitoring.checks import RUNNERS
from monitoring.checks.domain import run
from monitoring.engine.store import load_targets
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor
from monitoring.spec import parse_monitor
from monitoring.tests.loopback import arun, free_port, web_server
from sitecare.lib.http import OutboundClient

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def rdap_domain(name: str, expires_in_days: float | None) -> dict:
    """An RDAP domain object as registries publish it (RFC 9083), trimmed to what we read."""
    events = [{"eventAction": "registration", "eventDate": "2015-03-01T10:00:00Z"}]
    if expires_in_days is not None:
        expiry = NOW + dt.timedelta(days=expires_in_days)
        events.append({"eventAction": "expiration", "eventDate": expiry.isoformat()})
    return {
        "objectClassName": "domain",
        "ldhName": name,
        "status": ["client transfer prohibited"],
        "events": events,
        "entities": [
            {"objectClassName": "entity", "roles": ["registrant"]},
            {
                "objectClassName": "entity",
                "roles": ["registrar"],
                "vcardArray": [
                    "vcard",
                    [["version", {}, "text", "4.0"], ["fn", {}, "text", "Reg Ltd"]],
                ],
            },
        ],
    }


DOMAINS = {
    "long.example": 100.5,
    "soon.example": 20.5,
    "close.example": 3.5,
    "gone.example": -2,
    "undated.example": None,
}


def rdap_app(hits: Counter[str]) -> web.Application:
    """An RDAP service: ``/domain/{name}``, and ``/boot/domain/{name}`` redirecting there."""

    async def domain(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        hits[name] += 1
        if name == "garbage.example":
            return web.Response(text="<html>not json</html>", content_type="text/html")
        if name == "busy.example":
            return web.json_response({"errorCode": 503}, status=503)
        if name not in DOMAINS:
            body = {"errorCode": 404, "title": "Not Found"}
            return web.json_response(body, status=404, content_type="application/rdap+json")
        body = rdap_domain(name, DOMAINS[name])
        return web.json_response(body, content_type="application/rdap+json")

    async def bootstrap(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/domain/{request.match_info['name']}")

    app = web.Application()
    app.router.add_get("/domain/{name}", domain)
    app.router.add_get("/boot/domain/{name}", bootstrap)
    return app


def target(name: str, allowlist=LOOPBACK, **config) -> CheckTarget:
    return CheckTarget(
        monitor_id=3,
        kind=CheckKind.DOMAIN,
        url=name,
        config=config,
        interval_s=3600,
        timeout_s=3.0,
        allowlist=allowlist,
    )


def check(name: str, path: str = "", allowlist=LOOPBACK, **config):
    """One check of ``name`` against the local RDAP server at pinned time; (outcome, hits)."""
    hits: Counter[str] = Counter()

    async def scenario():
        async with web_server(rdap_app(hits)) as base, OutboundClient() as client:
            config.setdefault("rdap_base_url", base + path)
            return await run(target(name, allowlist, **config), client)

    with time_machine.travel(NOW, tick=False):
        return arun(scenario()), hits


def test_it_registers_the_domain_runner():
    assert RUNNERS[CheckKind.DOMAIN] is run


def test_it_is_up_far_from_expiry_with_the_registration_in_details():
    outcome, hits = check("long.example")
    assert outcome.ok, outcome
    assert outcome.checked_at == NOW
    assert outcome.details == {
        "expires_at": "2026-09-10T00:00:00+00:00",
        "days_left": 100,
        "registrar": "Reg Ltd",
        "statuses": ["client transfer prohibited"],
    }
    assert "2026-09-10" in outcome.message and "100" in outcome.message
    assert hits == {"long.example": 1}


def test_it_stays_up_but_warns_inside_the_warning_window():
    outcome, _hits = check("soon.example")
    assert outcome.ok, outcome
    assert outcome.details["days_left"] == 20
    assert "20" in outcome.details["warning"]


def test_it_follows_thresholds_set_on_the_monitor():
    outcome, _hits = check("soon.example", warn_days=10, critical_days=5)
    assert outcome.ok and "warning" not in outcome.details
    down, _hits = check("soon.example", warn_days=60, critical_days=21)
    assert down.failure_class == FailureClass.ASSERTION_FAILED


def test_it_is_down_at_or_under_the_critical_days():
    outcome, _hits = check("close.example")
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert outcome.details["days_left"] == 3
    assert "3 days" in outcome.message


def test_it_is_down_once_expired_saying_when():
    outcome, _hits = check("gone.example")
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert outcome.details["days_left"] == -2
    assert "expired on 2026-05-30" in outcome.message


def test_it_reports_an_answer_without_expiration_as_invalid_response():
    outcome, _hits = check("undated.example")
    assert outcome.failure_class == FailureClass.INVALID_RESPONSE
    assert "no expiration date" in outcome.message


def test_it_reports_an_unregistered_domain_as_dns_error():
    outcome, hits = check("free-to-register.example")
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "not registered" in outcome.message
    assert hits == {"free-to-register.example": 1}


def test_it_reports_a_failing_rdap_server_as_http_status():
    outcome, _hits = check("busy.example")
    assert outcome.failure_class == FailureClass.HTTP_STATUS
    assert "503" in outcome.message


def test_it_reports_a_body_that_is_not_json_as_invalid_response():
    outcome, _hits = check("garbage.example")
    assert outcome.failure_class == FailureClass.INVALID_RESPONSE


def test_it_follows_a_bootstrap_redirect_to_the_registry():
    outcome, hits = check("long.example", path="/boot")
    assert outcome.ok, outcome
    assert hits == {"long.example": 1}


def test_it_asks_the_installation_rdap_service_when_the_monitor_names_none(settings):
    hits: Counter[str] = Counter()

    async def scenario():
        async with web_server(rdap_app(hits)) as base, OutboundClient() as client:
            settings.SITECARE_RDAP_BASE_URL = base + "/"
            return await run(target("long.example"), client)

    with time_machine.travel(NOW, tick=False):
        outcome = arun(scenario())
    assert outcome.ok, outcome
    assert hits == {"long.example": 1}


def test_it_refuses_an_rdap_server_the_policy_denies_without_connecting(netlog):
    outcome, hits = check("long.example", allowlist=())
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert hits == {}
    assert netlog.connects() == []


def test_it_classifies_an_rdap_server_that_is_down_as_connection_refused():
    outcome, _hits = check("long.example", rdap_base_url=f"http://127.0.0.1:{free_port()}")
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED


def test_it_runs_a_monitor_saved_from_a_definition_through_the_engine_loader(world, settings):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    definition = parse_monitor(
        {"name": "Domain", "kind": "domain", "url": "Long.Example", "warn_days": 60},
        world.agency.allowed_networks(),
    )
    monitor = Monitor.objects.create(site=world.site_a, **definition.model_fields_for())
    found = load_targets()[monitor.pk]
    hits: Counter[str] = Counter()

    async def scenario():
        async with web_server(rdap_app(hits)) as base, OutboundClient() as client:
            settings.SITECARE_RDAP_BASE_URL = base
            return await RUNNERS[found.kind](found, client)

    with time_machine.travel(NOW, tick=False):
        outcome = arun(scenario())
    assert outcome.ok, outcome
    assert outcome.monitor_id == monitor.pk
    assert hits == {"long.example": 1}


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_monitor({"name": "x", "kind": "domain", **data}, [])
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


@pytest.mark.parametrize(
    "name", ["https://shop.example/", "_dmarc.shop.example", "shop", "203.0.113.9", "shop..example"]
)
def test_it_refuses_a_bad_domain_name_on_the_url_field(name):
    assert list(errors_of({"url": name})) == ["url"]


def test_it_refuses_a_critical_threshold_above_the_warning_one():
    errs = errors_of({"url": "shop.example", "warn_days": 10, "critical_days": 20})
    assert list(errs) == ["critical_days"]


def test_it_refuses_an_rdap_base_url_that_is_not_http():
    assert list(errors_of({"url": "shop.example", "rdap_base_url": "ftp://rdap.example"})) == [
        "rdap_base_url"
    ]


def test_it_stores_the_name_in_ascii_and_the_base_url_without_a_trailing_slash():
    definition = parse_monitor(
        {
            "name": "x",
            "kind": "domain",
            "url": "Bücher.example",
            "rdap_base_url": "https://r.example/",
        },
        [],
    )
    assert definition.common.url == "xn--bcher-kva.example"
    assert definition.options == {"rdap_base_url": "https://r.example"}
