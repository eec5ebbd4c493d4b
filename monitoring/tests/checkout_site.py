"""A local shop with a real purchase for the transaction tests: product → cart → checkout form →
pay → confirmation with an order number, served by aiohttp on loopback from a thread of its own.

Each test switches one fault on (``Shop.fault``): a missing button, a changed text, a 500 from
the pay endpoint, a JavaScript exception, a slow pay endpoint, a redirect to a blocked host.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

Fault = Literal["", "missing_button", "changed_text", "pay_500", "js_error", "slow", "redirect"]
CARD = "4242 4242 4242 4242"
ORDER = "A-1001"
BLOCKED_HOST = "payments.blocked.test"
SLOW_PAY_S = 4.0

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
</head><body><nav><a href="/">Shop</a> <a href="/cart">Cart</a></nav><main>{body}</main>
{script}</body></html>"""

PRODUCT = """<h1>Red shoes</h1><p>Price: 199 PLN</p>
<form method="post" action="/cart/add"><input type="hidden" name="product" value="1">
{button}</form>"""

CHECKOUT = """<h1>Checkout</h1>
<form method="post" action="/pay" onsubmit="event.preventDefault(); startPayment(this);">
<label for="email">Email</label> <input id="email" name="email" type="email">
<label for="card">Card number</label> <input id="card" name="card" autocomplete="off">
<label for="country">Country</label>
<select id="country" name="country"><option value="DE">Germany</option>
<option value="PL">Poland</option></select>
<input id="terms" name="terms" type="checkbox"> <label for="terms">I accept the terms</label>
<button type="submit">Pay</button></form>"""

# The pay button hands the form to the "payment widget"; with the fault it throws instead.
WIDGET = "<script>function startPayment(form) { form.submit(); }</script>"
BROKEN_WIDGET = "<script>function startPayment(form) { window.paymentWidget.open(form); }</script>"


@dataclass
class Shop:
    """What the local shop does now; tests switch a fault on before the check."""

    fault: Fault = ""
    url: str = ""
    port: int = 0
    paid: list[dict[str, str]] = field(default_factory=list)

    def page(self, title: str, body: str, script: str = "", status: int = 200) -> web.Response:
        html = PAGE.format(title=title, body=body, script=script)
        return web.Response(status=status, text=html, content_type="text/html")


def shop_app(shop: Shop) -> web.Application:
    async def home(_request: web.Request) -> web.Response:
        return shop.page("Shop", '<h1>Shop</h1><a href="/product/1">Red shoes</a>')

    async def product(_request: web.Request) -> web.Response:
        button = "" if shop.fault == "missing_button" else '<button type="submit">Add to cart'
        return shop.page("Red shoes", PRODUCT.format(button=button + "</button>"))

    async def add(_request: web.Request) -> web.Response:
        raise web.HTTPSeeOther("/cart")

    async def cart(_request: web.Request) -> web.Response:
        body = '<h1>Cart</h1><p>1 × Red shoes</p><a href="/checkout">Checkout</a>'
        return shop.page("Cart", body)

    async def checkout(_request: web.Request) -> web.Response:
        widget = BROKEN_WIDGET if shop.fault == "js_error" else WIDGET
        return shop.page("Checkout", CHECKOUT, widget)

    async def pay(request: web.Request) -> web.Response:
        form = await request.post()
        shop.paid.append({key: str(value) for key, value in form.items()})
        if shop.fault == "pay_500":
            return shop.page("Error", "<h1>Internal Server Error</h1>", status=500)
        if shop.fault == "slow":
            await asyncio.sleep(SLOW_PAY_S)
        if shop.fault == "redirect":
            raise web.HTTPFound(f"http://{BLOCKED_HOST}:{shop.port}/3ds")
        if form.get("card") != CARD:
            return shop.page("Declined", "<h1>Card declined</h1>", status=402)
        raise web.HTTPSeeOther(f"/confirmation?order={ORDER}")

    async def confirmation(request: web.Request) -> web.Response:
        label = "Order no." if shop.fault == "changed_text" else "Order number:"
        order = request.query.get("order", "")
        body = f'<h1>Thank you</h1><p>{label} <span data-testid="order-number">{order}</span></p>'
        return shop.page("Thank you", body)

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/product/1", product)
    app.router.add_post("/cart/add", add)
    app.router.add_get("/cart", cart)
    app.router.add_get("/checkout", checkout)
    app.router.add_post("/pay", pay)
    app.router.add_get("/confirmation", confirmation)
    return app


@contextmanager
def served(shop: Shop) -> Iterator[Shop]:
    """Serve the shop at ``shop.url`` on 127.0.0.1 until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(shop_app(shop), handle_signals=False, access_log=None)

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return int(runner.addresses[0][1])

    try:
        shop.port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=5)
        shop.url = f"http://127.0.0.1:{shop.port}/"
        yield shop
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
