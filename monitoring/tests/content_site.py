"""A local shop page for the content change tests: served by aiohttp on loopback from a thread
of its own (so its address stays the same across checks and engine runs), rewritten by tests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web

from monitoring.checks import RUNNERS
from monitoring.engine import store
from monitoring.logic import Outcome
from monitoring.models import CheckKind, Monitor
from monitoring.tests.loopback import arun
from sitecare.lib.http import OutboundClient

SHOP = """<!doctype html><html><head><title>Shop</title>
<style>body {{ color: red }}</style>
<script nonce="{nonce}">window.build = "{nonce}";</script>
</head><body>
<!-- rendered in {nonce} ms -->
<header><p>Today: {date}</p></header>
<main id="offer"><h1>Summer   sale</h1>
<p>Shoes for
  everyone</p></main>
<footer>Visitors: {visitors}</footer>
</body></html>"""


@dataclass
class Page:
    """What the local site serves now; tests change it between checks."""

    fields: dict[str, str] = field(
        default_factory=lambda: {"nonce": "n1", "date": "1 June", "visitors": "10"}
    )
    template: str = SHOP
    status: int = 200
    url: str = ""

    def html(self) -> str:
        return self.template.format(**self.fields)


def site(page: Page) -> web.Application:
    async def serve(_request: web.Request) -> web.Response:
        return web.Response(status=page.status, text=page.html(), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", serve)
    return app


@contextmanager
def served(page: Page) -> Iterator[Page]:
    """Serve the page at ``page.url`` on 127.0.0.1 until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(site(page), handle_signals=False, access_log=None)

    async def start() -> str:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/"

    try:
        page.url = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=5)
        yield page
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def check_and_store(monitor: Monitor) -> Outcome:
    """Check a content monitor as the engine does (loaded target, real page), store the outcome."""
    loaded = store.load_targets()[monitor.pk]

    async def scenario() -> Outcome:
        async with OutboundClient() as client:
            return await RUNNERS[CheckKind.CONTENT](loaded, client)

    outcome = arun(scenario())
    store.store_results([outcome])
    return outcome
