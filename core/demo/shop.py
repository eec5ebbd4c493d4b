"""The demo shop: a tiny aiohttp app on loopback that ``sitecare demo-site`` serves.

Shop pages (``/``, ``/product/<id>``, the purchase under ``/cart`` and ``/order``, the JSON
``/checkout`` and ``/health``) obey the demo mode read from the state file on every request;
the inbox (``/_inbox``) is never broken, so alerts about the broken shop still arrive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from core.demo import hero, purchase
from core.demo.catalog import PRODUCTS, PRODUCTS_BY_PK, page, render
from core.demo.inbox import DEDUP_HEADER, Inbox, alert_from_payload
from core.demo.state import DemoMode, get_demo_mode, heavy_seconds, slow_seconds

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HOST = "127.0.0.1"
INBOX_KEY = web.AppKey("inbox", Inbox)
JSON_PATHS = frozenset({"/checkout", "/health"})


def request_language(request: web.Request) -> str:
    """The first language of the browser's Accept-Language that sitecare speaks."""
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";", 1)[0].strip()
        if not code or code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return str(settings.LANGUAGE_CODE)


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    with translation.override(request_language(request)):
        return await handler(request)


@web.middleware
async def demo_mode_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the demo mode to shop pages; paths under ``/_`` (the inbox) always work."""
    if request.path.startswith("/_"):
        return await handler(request)
    mode = get_demo_mode()
    if mode == DemoMode.ALL:
        return unavailable(request)
    if mode == DemoMode.SLOW:
        await asyncio.sleep(slow_seconds())
    return await handler(request)


def unavailable(request: web.Request) -> web.Response:
    if request.path in JSON_PATHS:
        return web.json_response({"status": "error", "error": _("Shop unavailable")}, status=503)
    return page(request, "demo_shop/unavailable.html", {}, status=503)


async def home(request: web.Request) -> web.Response:
    return page(request, "demo_shop/home.html", {"products": PRODUCTS})


async def product(request: web.Request) -> web.Response:
    pk = int(request.match_info["pk"])
    found = PRODUCTS_BY_PK.get(pk)
    if found is None:
        raise web.HTTPNotFound(text=_("No such product."))
    return page(request, "demo_shop/product.html", {"product": found})


async def hero_image(request: web.Request) -> web.StreamResponse:
    """The home page's hero: light, or in heavy mode ~1.5 MB sent over a few seconds."""
    if get_demo_mode() == DemoMode.HEAVY:
        return await hero.send_slowly(request, hero.heavy_hero(), heavy_seconds())
    return web.Response(
        body=hero.light_hero(), content_type="image/png", headers={"Cache-Control": "no-cache"}
    )


async def checkout(request: web.Request) -> web.Response:
    """The JSON checkout the Checkout monitor looks at (keyword ``"status": "ok"``).

    It stays "ok" when only the payment is broken: that is the failure it cannot see.
    """
    if get_demo_mode() == DemoMode.CHECKOUT:
        return web.json_response(
            {"status": "error", "error": _("The payment provider does not answer.")}, status=500
        )
    return web.json_response(
        {"status": "ok", "cart": {"items": 1, "total": PRODUCTS[0].price, "currency": "EUR"}}
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def inbox_receive(request: web.Request) -> web.Response:
    """Record one POSTed alert; anything but a JSON object is refused with 400."""
    try:
        payload = json.loads(await request.text())
        alert = alert_from_payload(payload, request.headers.get(DEDUP_HEADER, ""))
    except ValueError:
        return web.json_response(
            {"status": "error", "error": _("Expected a JSON object.")}, status=400
        )
    request.app[INBOX_KEY].add(alert)
    return web.json_response({"status": "received"})


async def inbox_page(request: web.Request) -> web.Response:
    inbox = request.app[INBOX_KEY]
    return render("demo_shop/inbox.html", {"alerts": list(inbox)})


def build_app() -> web.Application:
    """The demo shop with an empty inbox."""
    app = web.Application(middlewares=[language_middleware, demo_mode_middleware])
    app[INBOX_KEY] = Inbox()
    app.router.add_get("/", home)
    app.router.add_get(r"/product/{pk:\d+}", product)
    app.router.add_get("/hero.png", hero_image)
    purchase.add_routes(app)
    app.router.add_route("*", "/checkout", checkout)
    app.router.add_get("/health", health)
    app.router.add_post("/_inbox", inbox_receive)
    app.router.add_get("/_inbox", inbox_page)
    return app


def serve(port: int, announce: Callable[[str], None]) -> None:
    """Serve the shop on loopback until SIGINT/SIGTERM (aiohttp turns both into a clean exit)."""
    message = _("Demo shop on %(shop)s, its alert inbox on %(inbox)s") % {
        "shop": f"http://{HOST}:{port}/",
        "inbox": f"http://{HOST}:{port}/_inbox",
    }
    web.run_app(
        build_app(),
        host=HOST,
        port=port,
        access_log=None,
        # aiohttp calls this once it listens: announce ours instead of its banner.
        print=lambda _banner: announce(message),
        # Slow-mode requests are held for seconds; do not let them delay a stop.
        shutdown_timeout=1.0,
        handle_signals=True,
    )
