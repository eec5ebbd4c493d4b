"""The SEO accidents check against a local site on loopback: each accident, and a clean site."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest
from aiohttp import web
from pydantic import ValidationError

from monitoring.checks import RUNNERS
from monitoring.checks.seo import comparable_url, parse_robots, run
from monitoring.engine.store import load_targets
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor
from monitoring.spec import parse_monitor
from monitoring.tests.loopback import arun, free_port, silent_server, web_server
from sitecare.lib.http import OutboundClient

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
CLEAN_PAGE = """<!doctype html><html><head><title>Shop</title>
<meta name="robots" content="index, follow">
<link rel="canonical" href="{base}/shop/">
</head><body><h1>Shop</h1></body></html>"""
SITEMAP = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc>http://127.0.0.1/shop/</loc></url></urlset>"
)
ROBOTS_OK = "User-agent: *\nDisallow: /cart\n\nSitemap: {base}/sitemap.xml\n"


def target(url: str, timeout_s: float = 3.0, **config) -> CheckTarget:
    return CheckTarget(
        monitor_id=1,
        kind=CheckKind.SEO,
        url=url,
        config=config,
        interval_s=60,
        timeout_s=timeout_s,
        allowlist=LOOPBACK,
    )


def site(hits: Counter[str], **files: object) -> web.Application:
    """A site on loopback: a clean shop page, robots.txt and sitemap unless a file replaces them.

    ``files`` maps a path key (page, robots, sitemap) to a body text, a (status, body) pair, a
    (status, body, headers) triple, or None for 404.
    """
    defaults: dict[str, object] = {
        "page": CLEAN_PAGE,
        "robots": ROBOTS_OK,
        "sitemap": (200, SITEMAP, {"Content-Type": "application/xml"}),
    }
    defaults.update(files)

    def handler(key: str):
        async def serve(request: web.Request) -> web.Response:
            hits[request.path] += 1
            spec = defaults[key]
            if spec is None:
                return web.Response(status=404, text="Not found")
            status, body, headers = (200, spec, {}) if not isinstance(spec, tuple) else spec
            if isinstance(body, str):
                body = body.replace("{base}", f"http://{request.host}")
                return web.Response(status=status, text=body, headers=headers or None)
            return web.Response(status=status, body=body, headers=headers or None)

        return serve

    app = web.Application()
    app.router.add_get("/shop/", handler("page"))
    app.router.add_get("/robots.txt", handler("robots"))
    app.router.add_get("/sitemap.xml", handler("sitemap"))
    return app


def check(path: str = "/shop/", hits: Counter[str] | None = None, config=None, **files):
    """Run the SEO check of ``path`` on a local site shaped by ``files``."""
    counter = hits if hits is not None else Counter()

    async def scenario():
        async with web_server(site(counter, **files)) as base, OutboundClient() as client:
            return await run(target(base + path, **(config or {})), client)

    return arun(scenario())


def codes(outcome) -> list[str]:
    return [finding["code"] for finding in outcome.details["findings"]]


def test_it_registers_the_seo_runner():
    assert RUNNERS[CheckKind.SEO] is run


def test_it_is_up_on_a_clean_page_with_robots_and_sitemap():
    hits: Counter[str] = Counter()
    outcome = check(hits=hits)
    assert outcome.ok, outcome
    assert outcome.failure_class == FailureClass.NONE
    assert outcome.status_code == 200
    assert codes(outcome) == []
    assert hits == {"/shop/": 1, "/robots.txt": 1, "/sitemap.xml": 1}


def test_it_is_down_on_a_noindex_meta_tag():
    page = CLEAN_PAGE.replace("index, follow", "NoIndex, follow")
    outcome = check(page=page)
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert codes(outcome) == ["noindex_meta"]
    assert "noindex" in outcome.message


def test_it_is_down_on_a_googlebot_none_meta_tag():
    page = CLEAN_PAGE.replace(
        'name="robots" content="index, follow"', 'name="GoogleBot" content="none"'
    )
    assert codes(check(page=page)) == ["noindex_meta"]


def test_it_is_down_on_an_x_robots_tag_noindex_header():
    outcome = check(page=(200, CLEAN_PAGE, {"X-Robots-Tag": "noarchive, noindex"}))
    assert not outcome.ok
    assert codes(outcome) == ["noindex_header"]


def test_it_ignores_an_x_robots_tag_aimed_at_another_crawler():
    outcome = check(page=(200, CLEAN_PAGE, {"X-Robots-Tag": "otherbot: noindex"}))
    assert outcome.ok, outcome


def test_it_is_down_when_robots_disallows_everything_for_every_crawler():
    outcome = check(robots="User-agent: Googlebot\nAllow: /\n\nUser-agent: *\nDisallow: /\n")
    assert not outcome.ok
    assert codes(outcome) == ["robots_disallow_all"]


def test_it_accepts_robots_that_disallows_only_one_bot():
    outcome = check(robots="User-agent: BadBot\nDisallow: /\n\nUser-agent: *\nDisallow:\n")
    assert outcome.ok, outcome


def test_it_accepts_robots_whose_allow_reopens_the_whole_site():
    assert check(robots="User-agent: *\nDisallow: /\nAllow: /\n").ok


def test_it_accepts_a_missing_robots_txt_and_falls_back_to_sitemap_xml():
    hits: Counter[str] = Counter()
    outcome = check(hits=hits, robots=None)
    assert outcome.ok, outcome
    assert hits["/sitemap.xml"] == 1


def test_it_is_down_when_robots_txt_answers_a_server_error():
    assert codes(check(robots=(503, "busy"))) == ["robots_unreachable"]


def test_it_is_down_when_the_sitemap_is_missing():
    outcome = check(sitemap=None)
    assert not outcome.ok
    assert codes(outcome) == ["sitemap_unreachable"]
    assert "404" in outcome.message


def test_it_is_down_when_the_sitemap_is_an_html_page():
    outcome = check(sitemap="<!DOCTYPE html><html><body>Not found</body></html>")
    assert codes(outcome) == ["sitemap_not_xml"]


def test_it_is_down_when_the_sitemap_is_xml_of_another_kind():
    outcome = check(sitemap=(200, b"<?xml version='1.0'?><rss><channel/></rss>", {}))
    assert codes(outcome) == ["sitemap_not_xml"]
    assert "rss" in outcome.message


def test_it_checks_the_sitemap_listed_in_robots_txt():
    hits: Counter[str] = Counter()
    robots = "User-agent: *\nDisallow:\nSitemap: {base}/elsewhere.xml\n"
    outcome = check(hits=hits, robots=robots)
    assert codes(outcome) == ["sitemap_unreachable"]
    assert outcome.details["sitemaps"][0].endswith("/elsewhere.xml")  # a 404: no route there
    assert hits["/sitemap.xml"] == 0


def test_it_checks_no_sitemap_when_told_not_to():
    hits: Counter[str] = Counter()
    outcome = check(hits=hits, sitemap=None, config={"check_sitemap": False})
    assert outcome.ok, outcome
    assert hits["/sitemap.xml"] == 0


def test_it_is_down_when_the_canonical_points_to_another_host():
    page = CLEAN_PAGE.replace("{base}/shop/", "https://other.example/shop/")
    outcome = check(page=page)
    assert codes(outcome) == ["canonical_elsewhere"]
    assert "other.example" in outcome.message


def test_it_accepts_a_canonical_equal_modulo_a_trailing_slash_or_relative():
    assert check(page=CLEAN_PAGE.replace("{base}/shop/", "{base}/shop")).ok
    assert check(page=CLEAN_PAGE.replace("{base}/shop/", "/shop")).ok


@pytest.mark.parametrize(
    ("canonical", "page"),
    [
        ("HTTPS://Shop.Example:443/a/", "https://shop.example/a"),
        ("http://shop.example:80", "http://shop.example/"),
        ("https://bücher.example/caf%C3%A9", "https://xn--bcher-kva.example/café/"),
    ],
)
def test_it_compares_urls_modulo_case_default_port_slash_and_encoding(canonical, page):
    assert comparable_url(canonical) == comparable_url(page)


@pytest.mark.parametrize(
    ("canonical", "page"),
    [
        ("http://shop.example/a", "https://shop.example/a"),
        ("https://shop.example:8443/a", "https://shop.example/a"),
        ("https://shop.example/a?page=2", "https://shop.example/a"),
        ("https://www.shop.example/a", "https://shop.example/a"),
    ],
)
def test_it_tells_different_urls_apart(canonical, page):
    assert comparable_url(canonical) != comparable_url(page)


def test_it_skips_the_canonical_when_told_to_ignore_it():
    page = CLEAN_PAGE.replace("{base}/shop/", "https://other.example/")
    assert check(page=page, config={"canonical": "ignore"}).ok


def test_it_lists_every_finding_and_names_the_worst_first():
    page = CLEAN_PAGE.replace("index, follow", "noindex").replace(
        "{base}/shop/", "https://other.example/"
    )
    outcome = check(page=page, robots="User-agent: *\nDisallow: /\n", sitemap=None)
    assert codes(outcome) == [
        "noindex_meta",
        "robots_disallow_all",
        "canonical_elsewhere",
        "sitemap_unreachable",
    ]
    assert "noindex" in outcome.message and "3 more" in outcome.message


def test_it_is_http_status_when_the_page_itself_is_missing():
    outcome = check(path="/gone/")
    assert outcome.failure_class == FailureClass.HTTP_STATUS
    assert outcome.status_code == 404


def test_it_keeps_the_transport_class_when_the_page_cannot_be_reached():
    async def scenario():
        async with OutboundClient() as client:
            return await run(target(f"http://127.0.0.1:{free_port()}/"), client)

    assert arun(scenario()).failure_class == FailureClass.CONNECTION_REFUSED


def test_it_times_out_within_the_monitor_timeout_on_a_silent_server():
    async def scenario():
        async with silent_server() as url, OutboundClient() as client:
            return await run(target(url, timeout_s=0.5), client)

    assert arun(scenario()).failure_class == FailureClass.TIMEOUT


def test_it_refuses_a_page_the_policy_denies_without_connecting(netlog):
    async def scenario():
        async with OutboundClient() as client:
            denied = CheckTarget(1, CheckKind.SEO, "http://127.0.0.1:9/", {}, 60, 2.0)
            return await run(denied, client)

    assert arun(scenario()).failure_class == FailureClass.BLOCKED_BY_POLICY
    assert netlog.connects() == []


def test_it_reads_robots_groups_by_their_user_agent_runs():
    robots = parse_robots(
        "# comment\nUser-agent: a\nUser-agent: *\nDisallow: / # all\n"
        "User-agent: b\nAllow: /x\nSitemap: /s.xml\n"
    )
    assert [g.agents for g in robots.groups] == [["a", "*"], ["b"]]
    assert robots.blocks_everything()
    assert robots.sitemaps == ["/s.xml"]


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_monitor({"name": "x", "kind": "seo", **data}, [])
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


def test_it_names_an_unknown_option():
    assert list(errors_of({"url": "https://shop.example/", "must_be_indexd": True})) == [
        "must_be_indexd"
    ]


def test_it_refuses_a_url_that_is_not_http():
    assert list(errors_of({"url": "ftp://shop.example/"})) == ["url"]


def test_it_refuses_an_unknown_canonical_mode_and_a_bad_sitemap_url():
    errs = errors_of(
        {"url": "https://shop.example/", "canonical": "other", "sitemap_url": "file:///etc"}
    )
    assert set(errs) == {"canonical", "sitemap_url"}


def test_it_refuses_a_sitemap_url_with_sitemap_checks_off():
    errs = errors_of(
        {"url": "https://shop.example/", "check_sitemap": False, "sitemap_url": "https://s/x"}
    )
    assert list(errs) == ["sitemap_url"]


def test_it_runs_a_monitor_saved_from_a_definition_through_the_engine_loader(world):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    port = free_port()
    definition = parse_monitor(
        {"name": "SEO", "kind": "seo", "url": f"http://127.0.0.1:{port}/shop/"},
        world.agency.allowed_networks(),
    )
    monitor = Monitor.objects.create(site=world.site_a, **definition.model_fields_for())
    found = load_targets()[monitor.pk]
    hits: Counter[str] = Counter()

    async def scenario():
        runner = web.AppRunner(site(hits), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with OutboundClient() as client:
                return await RUNNERS[found.kind](found, client)
        finally:
            await runner.cleanup()

    outcome = arun(scenario())
    assert outcome.ok, outcome
    assert outcome.monitor_id == monitor.pk
    assert hits == {"/shop/": 1, "/robots.txt": 1, "/sitemap.xml": 1}
