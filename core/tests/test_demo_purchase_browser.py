"""The demo shows why (acceptance, real Chromium): the demo's own purchase transaction passes
against the demo shop; with ``--break payment`` every page still answers 200, and the
transaction fails at the payment, as the pay endpoint's HTTP error, with its screenshot."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from core.configcode import apply_file
from core.demo import build_app, set_demo_mode
from monitoring.browser.transaction_check import run_in_browser
from monitoring.engine.store import target_of
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import ArtifactKind, BrowserArtifact, Monitor
from sitecare.tests.browser import needs_chromium
from tenancy.models import Organization

pytestmark = [needs_chromium, pytest.mark.django_db]

DEMO = Path(__file__).resolve().parent.parent.parent / "examples" / "demo.yaml"


@pytest.fixture
def demo_shop(settings, tmp_path, monkeypatch) -> Iterator[str]:
    """The demo shop on a free loopback port, in a thread; its URL."""
    settings.VAR_DIR = tmp_path
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(build_app(), handle_signals=False, access_log=None)

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return int(runner.addresses[0][1])

    try:
        port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=5)
        monkeypatch.setenv("SITECARE_DEMO_PORT", str(port))
        yield f"http://127.0.0.1:{port}/"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def purchase_target(shop_url: str) -> CheckTarget:
    apply_file(DEMO)
    org = Organization.objects.get(slug="demo")
    monitor = Monitor.objects.get(site__client__organization=org, name="Purchase")
    assert monitor.url == shop_url
    return target_of(monitor, org.allowed_networks())


def test_it_buys_in_the_demo_shop_and_fails_at_the_payment_when_it_breaks(demo_shop):
    target = purchase_target(demo_shop)
    working = run_in_browser(target)
    assert working.ok, working.message
    extracted = [s.get("extracted") for s in (working.details or {})["steps"]]
    assert any(value and value.startswith("DS-") for value in extracted)

    set_demo_mode("payment")
    broken = run_in_browser(target)
    details = broken.details or {}
    assert not broken.ok
    assert broken.failure_class == FailureClass.HTTP_STATUS, broken.message
    failed = details["steps"][details["failed_step"]]
    assert failed["description"] == "The payment goes through"
    assert "/cart/pay" in broken.message and "502" in broken.message
    assert any(r.get("status") == 502 for r in details["failed_requests"])
    shots = BrowserArtifact.objects.filter(
        monitor_id=target.monitor_id, checked_at=broken.checked_at, kind=ArtifactKind.SCREENSHOT
    )
    assert shots.filter(step=details["failed_step"]).exists()
    assert "4242" not in broken.message
