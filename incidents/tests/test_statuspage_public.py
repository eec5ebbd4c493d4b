"""Public status pages over HTTP: the JSON and badge contents, the headers of every response,
unpublished pages, and custom domains matched by the Host header (and nothing else there)."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from incidents.models import MaintenanceWindow, StatusPage
from incidents.tests.statuspages import SCRIPT, SECRETS, reset_caches, status_world
from sites.models import Site

DOMAIN = "status.shop-a.example"
STRICT = (
    "default-src 'none'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@pytest.fixture
def sw(world):
    reset_caches()
    built = status_world(world, timezone.now())
    built.page.custom_domain = DOMAIN
    built.page.save()
    yield built
    reset_caches()


def public_paths(sw, prefix: str, json_path: str) -> dict[str, str]:
    component = sw.components[0].pk
    return {
        "html": prefix,
        "json": json_path,
        "css": prefix + "style.css",
        "badge": f"{prefix}badge/{component}.svg",
    }


def assert_secured(response, csp: str | None = None) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    if csp is None:
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert "script-src" not in response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    else:
        assert response["Content-Security-Policy"] == csp


def test_it_answers_each_part_with_its_type_and_a_strict_policy(sw):
    http = HttpClient()
    paths = public_paths(sw, f"/status/{sw.page.slug}/", f"/status/{sw.page.slug}.json")
    types = {
        "html": "text/html; charset=utf-8",
        "json": "application/json",
        "css": "text/css; charset=utf-8",
        "badge": "image/svg+xml; charset=utf-8",
    }
    for part, path in paths.items():
        response = http.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == types[part], path
        assert_secured(response, STRICT if part == "html" else None)
    html = http.get(paths["html"]).content.decode()
    assert "<script" not in html and "style=" not in html
    css = http.get(paths["css"]).content.decode()
    assert "--accent: #2563eb;" in css


def test_it_shows_in_json_only_the_components_and_their_incidents(sw):
    body = HttpClient().get(f"/status/{sw.page.slug}.json").json()
    assert [c["id"] for c in body["components"]] == [c.pk for c in sw.components]
    assert [c["name"] for c in body["components"]] == [c.name for c in sw.components]
    assert [c["state"] for c in body["components"]] == ["outage", "no_data", "operational"]
    assert body["status"]["state"] == "partial_outage"
    assert len(body["components"][0]["days"]) == 90
    # The private monitor is down with an open incident: not shown, not counted.
    assert len(body["incidents"]["active"]) == 1
    active = body["incidents"]["active"][0]
    assert active["title"] == f"{SCRIPT}: outage"
    assert active["components"] == [sw.components[0].pk]
    assert set(active) == {"title", "components", "status", "started_at", "resolved_at", "updates"}
    raw = HttpClient().get(f"/status/{sw.page.slug}.json").content.decode()
    for secret in SECRETS:
        assert secret not in raw, secret
    assert "monitor" not in raw


def test_it_draws_a_badge_with_escaped_text_and_no_data_as_such(sw):
    http = HttpClient()
    down = http.get(f"/status/{sw.page.slug}/badge/{sw.components[0].pk}.svg").content.decode()
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in down
    assert "<script" not in down
    assert "0.00%" in down  # down since it was created, three days ago
    unknown = http.get(f"/status/{sw.page.slug}/badge/{sw.components[1].pk}.svg").content.decode()
    assert "no data" in unknown
    for body in (down, unknown):
        for secret in SECRETS:
            assert secret not in body, secret


def test_it_answers_404_for_a_component_of_another_page_or_none(sw, world):
    other = StatusPage.objects.create(
        client=world.client_b, slug="shop-b", title="B", published=True
    )
    http = HttpClient()
    assert http.get(f"/status/{other.slug}/badge/{sw.components[0].pk}.svg").status_code == 404
    assert http.get(f"/status/{sw.page.slug}/badge/987654.svg").status_code == 404


def test_it_answers_404_for_unpublished_and_absent_pages_with_the_same_body(sw):
    http = HttpClient()
    absent = http.get("/status/no-such-page/")
    sw.page.published = False
    sw.page.save()
    for path in (
        f"/status/{sw.page.slug}/",
        f"/status/{sw.page.slug}.json",
        f"/status/{sw.page.slug}/badge/{sw.components[0].pk}.svg",
        f"/status/{sw.page.slug}/style.css",
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.content == absent.content
        assert_secured(response, STRICT)
    assert http.get("/", HTTP_HOST=DOMAIN).status_code == 404


def test_it_serves_the_page_at_the_root_of_its_custom_domain(sw):
    http = HttpClient()
    paths = public_paths(sw, "/", "/status.json")
    for host in (DOMAIN, DOMAIN.upper(), f"{DOMAIN}:8443"):
        for part, path in paths.items():
            response = http.get(path, HTTP_HOST=host)
            assert response.status_code == 200, (host, path)
            assert_secured(response, STRICT if part == "html" else None)
    html = http.get("/", HTTP_HOST=DOMAIN).content.decode()
    # Links on the custom domain stay on it.
    assert 'href="/style.css?v=2563eb"' in html
    assert 'action="/subscribe/"' in html
    assert f"/status/{sw.page.slug}" not in html
    body = http.get("/status.json", HTTP_HOST=DOMAIN).json()
    assert body["components"][0]["badge"] == f"/badge/{sw.components[0].pk}.svg"


def test_it_serves_nothing_else_of_sitecare_on_a_custom_domain(sw):
    http = HttpClient()
    for path in (
        "/admin/",
        "/login/",
        "/api/v1/clients",
        "/api/v1/openapi.json",
        f"/status/{sw.page.slug}/",
        "/static/css/sitecare.css",
        "/ping/abc",
        "/clients/1/",
        "/badge/999999.svg",
    ):
        response = http.get(path, HTTP_HOST=DOMAIN)
        assert response.status_code == 404, path
        assert_secured(response, STRICT)
        assert "Set-Cookie" not in response, path
        assert b"sitecare" not in response.content.lower(), path
    # The same paths still work on sitecare's own host.
    assert http.get("/login/").status_code == 200


def test_it_refuses_hosts_that_are_neither_ours_nor_a_page_domain(sw):
    http = HttpClient()
    for host in ("evil.example", "shop-a.example", f"x.{DOMAIN}", "status.shop-b.example"):
        assert http.get("/", HTTP_HOST=host).status_code == 400, host
        assert http.get("/status.json", HTTP_HOST=host).status_code == 400, host


def test_it_follows_a_changed_domain_once_the_map_is_read_again(sw):
    http = HttpClient()
    assert http.get("/", HTTP_HOST=DOMAIN).status_code == 200
    sw.page.custom_domain = "status.new-shop.example"
    sw.page.save()
    reset_caches()  # what the UI and the API do after a save; other processes wait 30 s
    assert http.get("/", HTTP_HOST=DOMAIN).status_code == 400
    assert http.get("/", HTTP_HOST="status.new-shop.example").status_code == 200


def test_it_refuses_bad_custom_domains_and_colours(sw, settings):
    page = sw.page
    for domain, ok in (
        ("Status.Shop-A.example.", True),
        ("https://status.shop-a.example", False),
        ("status.shop-a.example/path", False),
        ("status.shop-a.example:8443", False),
        ("localhost", False),
        ("127.0.0.1", False),
        ("-bad.example", False),
    ):
        page.custom_domain = domain
        if ok:
            page.full_clean()
            assert page.custom_domain == "status.shop-a.example"
        else:
            with pytest.raises(Exception) as refused:
                page.full_clean()
            assert "custom_domain" in refused.value.message_dict, domain  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["care.example.com"]
    page.custom_domain = "care.example.com"
    with pytest.raises(Exception) as own:
        page.full_clean()
    assert "custom_domain" in own.value.message_dict  # type: ignore[attr-defined]
    page.custom_domain = ""
    for colour in ("red", "#12345", "#12345g", "#1234567", "url(x)"):
        page.accent_color = colour
        with pytest.raises(Exception) as refused:
            page.full_clean()
        assert set(refused.value.message_dict) == {"accent_color"}, colour  # type: ignore[attr-defined]
    page.accent_color = "#ABCDEF"
    page.full_clean()
    assert page.accent_color == "#abcdef"


def test_it_keeps_two_pages_from_sharing_a_domain(sw, world):
    twin = StatusPage(client=world.client_a, slug="twin", title="Twin", custom_domain=DOMAIN)
    with pytest.raises(Exception) as refused:
        twin.full_clean()
    assert "custom_domain" in refused.value.message_dict  # type: ignore[attr-defined]


def test_it_links_the_stylesheet_by_the_accent_colour(sw):
    sw.page.accent_color = "#0f766e"
    sw.page.save()
    http = HttpClient()
    html = http.get(f"/status/{sw.page.slug}/").content.decode()
    link = re.search(r'href="(/status/[^"]+\.css)\?v=(\w+)"', html)
    assert link is not None and link.group(2) == "0f766e"
    assert "--accent: #0f766e;" in http.get(link.group(1)).content.decode()


def test_it_secures_the_subscriber_pages_and_refused_methods_too(sw):
    http = HttpClient()
    base = f"/status/{sw.page.slug}"
    for response in (
        http.post(f"{base}/subscribe/", {"email": "reader@example.com"}),
        http.post(f"{base}/subscribe/", {"email": "bad"}),
        http.get(f"{base}/subscribe/"),
        http.post(f"{base}/"),
        http.get(f"{base}/confirm/forged/"),
        http.get(f"{base}/unsubscribe/forged/"),
    ):
        assert response.status_code in (200, 400, 404, 405)
        assert_secured(response, STRICT)
        assert response["Cache-Control"] == "no-store"


def test_it_shows_maintenance_of_the_pages_sites_only(sw, world):
    other_site = Site.objects.create(client=world.client_a, name="Intranet", slug="intranet")
    tomorrow = timezone.localtime() + timedelta(days=1)
    for site, title in ((world.site_a, "Shop upgrade"), (other_site, "Intranet upgrade")):
        MaintenanceWindow.objects.create(
            client=world.client_a,
            site=site,
            title=title,
            start_date=tomorrow.date(),
            start_time=time(3),
            duration_minutes=30,
        )
    MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Everything",
        start_date=tomorrow.date(),
        start_time=time(4),
        duration_minutes=30,
    )
    body = HttpClient().get(f"/status/{sw.page.slug}.json").json()
    assert [m["title"] for m in body["maintenance"]] == ["Shop upgrade", "Everything"]
