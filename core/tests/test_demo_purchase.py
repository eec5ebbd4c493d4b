"""The demo shop's purchase over plain HTTP: product → cart → checkout → pay → confirmation, and
the two breaks made for browser checks (payment fails behind 200 pages; a heavy hero image)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from django.core.management import call_command

from core.demo import build_app, set_demo_mode
from core.demo.hero import heavy_hero, light_hero

JSON = {"Accept": "application/json"}
TEST_CARD = {"name": "Ada Buyer", "email": "ada@example.com", "card": "4242 4242 4242 4242"}
# Every page a visitor (or an HTTP monitor) can open, once the cart holds something.
PAGES = ["/", "/product/1", "/cart", "/cart/checkout", "/checkout", "/health"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SITECARE_DEMO_HEAVY_SECONDS = 0.5
    return tmp_path


def in_shop(scenario: Callable[[TestClient], Awaitable[Any]]) -> Any:
    """Run ``scenario`` against a fresh demo shop on loopback, with one visitor's cookies."""

    async def run() -> Any:
        async with TestClient(TestServer(build_app())) as client:
            return await scenario(client)

    return asyncio.run(run())


async def fill_cart(client: TestClient) -> None:
    added = await client.post("/cart/add", data={"product": "1"}, allow_redirects=False)
    assert added.status == 303 and added.headers["Location"] == "/cart"


def test_it_sells_a_mug_from_product_page_to_order_number():
    async def purchase(client: TestClient) -> dict[str, Any]:
        product = await client.get("/product/1")
        assert product.status == 200 and "Add to cart" in await product.text()
        await fill_cart(client)
        cart = await client.get("/cart")
        cart_page = await cart.text()
        assert "Stoneware mug" in cart_page and "Cart (1)" in cart_page
        assert 'href="/cart/checkout"' in cart_page
        form = await (await client.get("/cart/checkout")).text()
        for label in ("Full name", "Email", "Card number", "Pay now"):
            assert label in form
        paid = await client.post("/cart/pay", data=TEST_CARD, headers=JSON)
        answer = await paid.json()
        assert paid.status == 200 and answer["status"] == "ok"
        confirmation = await client.get(answer["confirmation"])
        after = await (await client.get("/cart")).text()
        return {"answer": answer, "page": await confirmation.text(), "cart_after": after}

    done = in_shop(purchase)
    number = done["answer"]["order"]
    assert re.fullmatch(r"DS-\d{6}", number)
    assert done["answer"]["confirmation"] == f"/order/{number}"
    assert f'data-testid="order-number">{number}</strong>' in done["page"]
    assert "Thank you, Ada Buyer!" in done["page"]
    assert "Your cart is empty" in done["cart_after"]


def test_it_pays_with_a_plain_form_post_too():
    async def purchase(client: TestClient) -> tuple[int, str, str]:
        await fill_cart(client)
        paid = await client.post("/cart/pay", data=TEST_CARD, allow_redirects=False)
        location = paid.headers["Location"]
        return paid.status, location, await (await client.get(location)).text()

    status, location, page = in_shop(purchase)
    assert status == 303 and location.startswith("/order/DS-")
    assert 'data-testid="order-number"' in page


def test_it_declines_other_cards_and_names_the_test_card():
    async def pay_with(client: TestClient) -> list[tuple[int, Any]]:
        await fill_cart(client)
        results = []
        for card in ("4000 0000 0000 0002", "12"):
            paid = await client.post("/cart/pay", data={**TEST_CARD, "card": card}, headers=JSON)
            results.append((paid.status, await paid.json()))
        page = await client.post("/cart/pay", data={**TEST_CARD, "card": "4000000000000002"})
        results.append((page.status, await page.text()))
        return results

    declined, malformed, page = in_shop(pay_with)
    assert declined[0] == 402 and "4242 4242 4242 4242" in declined[1]["error"]
    assert malformed[0] == 422 and set(malformed[1]["problems"]) == {"card"}
    assert page[0] == 402 and 'role="alert">Your card was declined' in page[1]
    assert "4000000000000002" not in page[1], "a card number is never sent back"


def test_it_refuses_to_charge_an_empty_cart():
    async def pay(client: TestClient) -> int:
        return (await client.post("/cart/pay", data=TEST_CARD, headers=JSON)).status

    assert in_shop(pay) == 409


def test_it_breaks_paying_while_every_page_answers_200():
    set_demo_mode("payment")

    async def purchase(client: TestClient) -> tuple[list[int], int, Any, int]:
        await fill_cart(client)
        statuses = [(await client.get(page)).status for page in PAGES]
        paid = await client.post("/cart/pay", data=TEST_CARD, headers=JSON)
        orders = await client.get("/order/DS-100001")
        return statuses, paid.status, await paid.json(), orders.status

    statuses, paid, answer, order = in_shop(purchase)
    assert statuses == [200] * len(PAGES), "the HTTP monitors stay green"
    assert paid == 502 and "payment provider" in answer["error"]
    assert order == 404, "no order was placed"


def test_it_keeps_the_json_checkout_ok_while_payment_is_broken():
    set_demo_mode("payment")

    async def checkout(client: TestClient) -> str:
        return await (await client.get("/checkout")).text()

    assert '"status": "ok"' in in_shop(checkout)


def test_it_breaks_the_checkout_form_and_payment_in_checkout_mode():
    set_demo_mode("checkout")

    async def purchase(client: TestClient) -> tuple[int, int, int]:
        await fill_cart(client)
        form = await client.get("/cart/checkout")
        paid = await client.post("/cart/pay", data=TEST_CARD, headers=JSON)
        return form.status, paid.status, (await client.get("/product/1")).status

    assert in_shop(purchase) == (500, 500, 200)


def test_it_serves_a_light_hero_image_normally():
    async def hero(client: TestClient) -> tuple[int, str, bytes]:
        response = await client.get("/hero.png")
        return response.status, response.content_type, await response.read()

    status, content_type, body = in_shop(hero)
    assert (status, content_type) == (200, "image/png")
    assert body == light_hero() and len(body) < 20_000
    assert body.startswith(b"\x89PNG\r\n\x1a\n")


def test_it_serves_a_heavy_hero_image_slowly_in_heavy_mode():
    set_demo_mode("heavy")

    async def hero(client: TestClient) -> tuple[int, float, bytes, float]:
        started = time.monotonic()
        home = await client.get("/")
        page_seconds = time.monotonic() - started
        assert 'src="/hero.png"' in await home.text()
        started = time.monotonic()
        response = await client.get("/hero.png")
        body = await response.read()
        return response.status, page_seconds, body, time.monotonic() - started

    status, page_seconds, body, image_seconds = in_shop(hero)
    assert status == 200 and body == heavy_hero()
    assert len(body) > 1_000_000
    assert page_seconds < 0.3, "the page itself answers at once"
    assert image_seconds >= 0.5


def test_it_switches_to_the_new_modes_from_the_command_line(capsys):
    call_command("demo-site", "--break", "payment")
    call_command("demo-site", "--break", "heavy")
    call_command("demo-site", "--repair")
    out = capsys.readouterr().out
    assert "Payment broken" in out and "Heavy hero image" in out and "Working" in out


def test_it_speaks_polish_through_the_purchase():
    async def purchase(client: TestClient) -> str:
        await fill_cart(client)
        return await (await client.get("/cart/checkout", headers={"Accept-Language": "pl"})).text()

    page = in_shop(purchase)
    assert '<html lang="pl">' in page
    assert "Card number" not in page
