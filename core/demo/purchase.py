"""The demo shop's purchase: cart, checkout form, payment and the order's confirmation.

The checkout page pays with a ``fetch`` to ``/cart/pay`` (JSON answers) and, without
JavaScript, with a plain form POST to the same address (pages and redirects). In "payment"
mode that endpoint fails while every page still answers 200: only a purchase made in a browser
notices. In "checkout" mode the checkout form itself answers 500.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from django.utils.translation import gettext as _

from core.demo.cart import COOKIE, Orders, Payment, write_cart
from core.demo.catalog import PRODUCTS_BY_PK, cart_of, lines_of, page
from core.demo.state import DemoMode, get_demo_mode

ORDERS_KEY = web.AppKey("orders", Orders)
COOKIE_AGE = 7 * 24 * 3600


def _with_cart(response: web.StreamResponse, cart: dict[int, int]) -> web.StreamResponse:
    if cart:
        response.set_cookie(
            COOKIE, write_cart(cart), max_age=COOKIE_AGE, httponly=True, samesite="Lax"
        )
    else:
        response.del_cookie(COOKIE)
    return response


def see_other(address: str) -> web.Response:
    return web.Response(status=303, headers={"Location": address})


async def _posted_product(request: web.Request) -> int:
    form = await request.post()
    text = str(form.get("product", ""))
    pk = int(text) if text.isdigit() else 0
    if pk not in PRODUCTS_BY_PK:
        raise web.HTTPNotFound(text=_("No such product."))
    return pk


async def cart_add(request: web.Request) -> web.StreamResponse:
    """Put one more of the posted product in the cart, then show the cart."""
    pk = await _posted_product(request)
    cart = cart_of(request)
    cart[pk] = cart.get(pk, 0) + 1
    return _with_cart(see_other("/cart"), cart)


async def cart_remove(request: web.Request) -> web.StreamResponse:
    cart = cart_of(request)
    cart.pop(await _posted_product(request), None)
    return _with_cart(see_other("/cart"), cart)


async def cart_page(request: web.Request) -> web.Response:
    lines = lines_of(cart_of(request))
    total = sum((line.total for line in lines), start=0)
    return page(request, "demo_shop/cart.html", {"lines": lines, "total": total})


def _checkout_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    lines = lines_of(cart_of(request))
    return {
        "lines": lines,
        "total": sum((line.total for line in lines), start=0),
        "values": {"name": "", "email": "", "card": ""},
        "problems": {},
        "error": "",
        **extra,
    }


async def checkout_form(request: web.Request) -> web.Response:
    """The checkout form (500 in "checkout" mode, as the rest of the checkout)."""
    if get_demo_mode() == DemoMode.CHECKOUT:
        return page(request, "demo_shop/unavailable.html", {}, status=500)
    return page(request, "demo_shop/checkout.html", _checkout_context(request))


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refusal(
    request: web.Request, status: int, error: str, problems: dict[str, str], payment: Payment
) -> web.Response:
    """A payment that did not go through: JSON for the page's script, else the form again."""
    if _wants_json(request):
        body = {"status": "error", "error": error, "problems": problems}
        return web.json_response(body, status=status)
    # The card number is never sent back, as a real shop would not.
    values = {"name": payment.name, "email": payment.email, "card": ""}
    context = _checkout_context(request, values=values, problems=problems, error=error)
    return page(request, "demo_shop/checkout.html", context, status=status)


async def pay(request: web.Request) -> web.StreamResponse:
    """Take the payment for the cart.

    1. A broken checkout (500) or payment (502, "payment" mode) fails whatever was sent.
    2. An empty cart (409), a form mistake (422) or a declined card (402) is refused with
       what to do.
    3. Otherwise the order is placed, the cart emptied, and the confirmation shown (JSON
       names its address; a form post is redirected there).
    """
    form = await request.post()
    payment = Payment(
        str(form.get("name", "")), str(form.get("email", "")), str(form.get("card", ""))
    )
    mode = get_demo_mode()
    if mode == DemoMode.CHECKOUT:
        return _refusal(request, 500, _("The checkout is unavailable."), {}, payment)
    if mode == DemoMode.PAYMENT:
        error = _("The payment provider did not answer. Nothing was charged: try again later.")
        return _refusal(request, 502, error, {}, payment)
    lines = lines_of(cart_of(request))
    if not lines:
        return _refusal(request, 409, _("Your cart is empty."), {}, payment)
    problems = payment.problems()
    if problems:
        return _refusal(request, 422, _("Please correct the marked fields."), problems, payment)
    if payment.declined:
        error = _("Your card was declined. In this demo only the test card %(card)s is accepted.")
        return _refusal(request, 402, error % {"card": "4242 4242 4242 4242"}, {}, payment)
    order = request.app[ORDERS_KEY].place(payment, lines)
    address = f"/order/{order.number}"
    response: web.StreamResponse
    if _wants_json(request):
        response = web.json_response(
            {"status": "ok", "order": order.number, "confirmation": address}
        )
    else:
        response = see_other(address)
    return _with_cart(response, {})


async def order_page(request: web.Request) -> web.Response:
    order = request.app[ORDERS_KEY].get(request.match_info["number"])
    if order is None:
        raise web.HTTPNotFound(text=_("No such order."))
    return page(request, "demo_shop/order.html", {"order": order})


def add_routes(app: web.Application) -> None:
    app[ORDERS_KEY] = Orders()
    app.router.add_get("/cart", cart_page)
    app.router.add_post("/cart/add", cart_add)
    app.router.add_post("/cart/remove", cart_remove)
    app.router.add_get("/cart/checkout", checkout_form)
    app.router.add_post("/cart/pay", pay)
    app.router.add_get(r"/order/{number:DS-\d+}", order_page)
