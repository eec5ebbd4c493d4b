"""The demo shop: its pages, breaking and repairing it (file, command, admin toggle), its inbox."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import include, path

import sitecare.urls
from core.demo import DemoMode, build_app, get_demo_mode, set_demo_mode
from core.demo.state import state_path

# The lead mounts the toggle in sitecare/urls.py; these tests mount it themselves so they do
# not depend on that line.
urlpatterns = [*sitecare.urls.urlpatterns, path("demo/", include("core.urls"))]

SHOP_PAGES = ["/", "/product/1", "/checkout", "/health"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SITECARE_DEMO_SLOW_SECONDS = 0.6
    settings.SITECARE_DEMO_PORT = 18765
    return tmp_path


async def _requests(app: web.Application, calls: list[tuple[str, str, dict[str, Any]]]):
    results = []
    async with TestClient(TestServer(app)) as client:
        for method, url, kwargs in calls:
            response = await client.request(method, url, **kwargs)
            results.append((response.status, await response.text()))
    return results


def shop(*calls: tuple[str, str, dict[str, Any]], app: web.Application | None = None):
    """Send requests to a fresh (or given) demo shop on loopback; (status, text) each."""
    return asyncio.run(_requests(app or build_app(), list(calls)))


def get(url: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
    return ("GET", url, kwargs)


def post(url: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
    return ("POST", url, kwargs)


def test_it_serves_the_shop_pages_while_working():
    home, product, missing, checkout, health = shop(
        get("/"), get("/product/1"), get("/product/99"), get("/checkout"), get("/health")
    )
    assert home[0] == 200 and "Add to cart" in home[1]
    assert product[0] == 200 and "Stoneware mug" in product[1]
    assert missing[0] == 404
    assert checkout[0] == 200 and '"status": "ok"' in checkout[1]
    assert json.loads(health[1]) == {"status": "ok"} and health[0] == 200


def test_it_breaks_only_the_checkout_in_checkout_mode():
    set_demo_mode("checkout")
    home, product, checkout, health = shop(*(get(page) for page in SHOP_PAGES))
    assert checkout[0] == 500
    assert json.loads(checkout[1])["status"] == "error"
    assert '"status": "ok"' not in checkout[1]
    assert [home[0], product[0], health[0]] == [200, 200, 200]


def test_it_answers_503_on_every_shop_page_but_keeps_the_inbox_in_all_mode():
    set_demo_mode("all")
    *pages, inbox = shop(*(get(page) for page in SHOP_PAGES), get("/_inbox"))
    assert [status for status, _text in pages] == [503, 503, 503, 503]
    assert "Add to cart" not in pages[0][1]
    assert inbox[0] == 200


def test_it_answers_after_a_delay_in_slow_mode():
    set_demo_mode("slow")
    started = time.monotonic()
    [(status, _text)] = shop(get("/health"))
    assert status == 200
    assert time.monotonic() - started >= 0.6


def test_it_works_again_once_repaired():
    set_demo_mode("all")
    set_demo_mode("ok")
    statuses = [status for status, _text in shop(*(get(page) for page in SHOP_PAGES))]
    assert statuses == [200, 200, 200, 200]


def test_it_keeps_the_mode_in_a_json_file_under_var(var_dir):
    assert get_demo_mode() == DemoMode.OK  # no file yet
    assert set_demo_mode("checkout") == DemoMode.CHECKOUT
    assert state_path() == var_dir / "demo-site.json"
    assert json.loads(state_path().read_text())["mode"] == "checkout"
    assert get_demo_mode() == DemoMode.CHECKOUT
    assert sorted(p.name for p in var_dir.iterdir()) == ["demo-site.json"]  # no temp left


def test_it_refuses_an_unknown_mode_and_keeps_the_old_one():
    set_demo_mode("slow")
    with pytest.raises(ValueError):
        set_demo_mode("on-fire")
    assert get_demo_mode() == DemoMode.SLOW


def test_it_treats_a_damaged_state_file_as_working():
    state_path().write_text("{not json")
    assert get_demo_mode() == DemoMode.OK
    state_path().write_text('["all"]')
    assert get_demo_mode() == DemoMode.OK


def test_it_lists_received_alerts_newest_first():
    app = build_app()
    down = {
        "version": "1.0",
        "title": "[DOWN] Shop: Checkout",
        "message": "HTTP 500",
        "type": "failure",
    }
    up = {"version": "1.0", "title": "[UP] Shop: Checkout", "message": "Back", "type": "success"}
    *answers, (status, page) = shop(
        post("/_inbox", json=down, headers={"X-Sitecare-Dedup-Key": "incident-1-opened"}),
        post("/_inbox", json=up),
        get("/_inbox"),
        app=app,
    )
    assert [a[0] for a in answers] == [200, 200]
    assert status == 200
    assert page.index("[UP] Shop: Checkout") < page.index("[DOWN] Shop: Checkout")
    assert "incident-1-opened" in page


def test_it_escapes_what_the_inbox_received():
    [_answer, (_status, page)] = shop(
        post("/_inbox", json={"title": "<script>alert(1)</script>", "message": "x"}),
        get("/_inbox"),
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_it_refuses_an_inbox_post_that_is_not_a_json_object():
    answers = shop(post("/_inbox", data="nope"), post("/_inbox", json=[1, 2]), get("/_inbox"))
    assert [status for status, _text in answers[:2]] == [400, 400]
    assert "No alerts yet" in answers[2][1]


def test_it_speaks_the_browsers_language_when_it_can():
    [(_status, page)] = shop(get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.8"}))
    assert '<html lang="pl">' in page


def test_it_breaks_and_repairs_from_the_command_line(capsys):
    call_command("demo-site", "--break", "checkout")
    assert get_demo_mode() == DemoMode.CHECKOUT
    call_command("demo-site", "--break", "slow")
    assert get_demo_mode() == DemoMode.SLOW
    call_command("demo-site", "--repair")
    assert get_demo_mode() == DemoMode.OK
    assert "Working" in capsys.readouterr().out


def test_it_refuses_an_unknown_break_mode_on_the_command_line():
    with pytest.raises(CommandError):
        call_command("demo-site", "--break", "everything")
    assert get_demo_mode() == DemoMode.OK


@pytest.mark.urls(__name__)
def test_it_shows_the_toggle_to_agency_members(world, client):
    set_demo_mode("checkout")
    for user in (world.owner, world.engineer):
        client.force_login(user)
        response = client.get("/demo/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Checkout broken" in page
        assert "http://127.0.0.1:18765/_inbox" in page


@pytest.mark.urls(__name__)
def test_it_breaks_and_repairs_the_shop_from_the_toggle(world, client):
    client.force_login(world.engineer)
    response = client.post("/demo/", {"mode": "all"})
    assert response.status_code == 302
    assert get_demo_mode() == DemoMode.ALL
    client.post("/demo/", {"mode": "bogus"})
    assert get_demo_mode() == DemoMode.ALL
    client.post("/demo/", {"mode": "ok"})
    assert get_demo_mode() == DemoMode.OK


@pytest.mark.urls(__name__)
def test_it_hides_the_toggle_from_client_users_and_strangers(world, client):
    response = client.get("/demo/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(world.client_a_user)
    assert client.get("/demo/").status_code == 404
    assert client.post("/demo/", {"mode": "all"}).status_code == 404
    assert get_demo_mode() == DemoMode.OK


@pytest.mark.urls(__name__)
def test_it_needs_the_csrf_token_to_change_the_mode(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    assert client.post("/demo/", {"mode": "all"}).status_code == 403
    assert get_demo_mode() == DemoMode.OK
