"""The demo's Purchase monitor, step by step as examples/demo.yaml writes it, in Chromium against
the demo shop on loopback: its role, label and test-id locators find the shop's elements, the
order number is extracted; with ``--break payment`` the run stops at the payment (pages 200, a
visible error, a console error); with ``--break heavy`` the hero image is the page's Largest
Contentful Paint and arrives late. A stand-in for the transaction kind's runner, which is tested
on its own branch: this checks the demo's side of the contract."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from core.demo import build_app, set_demo_mode
from monitoring.tests.loopback import free_port
from sitecare.tests.browser import needs_chromium

pytestmark = needs_chromium

DEMO = Path(__file__).resolve().parent.parent.parent / "examples" / "demo.yaml"
STEP_TIMEOUT_MS = 3_000


@pytest.fixture
def shop(settings, tmp_path) -> Iterator[str]:
    """The demo shop served on a free loopback port from a thread; its address."""
    settings.VAR_DIR = tmp_path
    settings.SITECARE_DEMO_HEAVY_SECONDS = 1.5
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(), access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def purchase_monitor() -> dict[str, Any]:
    document = yaml.safe_load(DEMO.read_text())
    monitors = document["clients"][0]["sites"][0]["monitors"]
    return next(m for m in monitors if m["name"] == "Purchase")


def locate(page: Any, step: dict[str, Any]) -> Any:
    if "role" in step:
        return page.get_by_role(step["role"], name=step.get("name"))
    if "label" in step:
        return page.get_by_label(step["label"])
    if "test_id" in step:
        return page.get_by_test_id(step["test_id"])
    raise AssertionError(f"the demo uses no other locator: {step}")


def run_steps(page: Any, base: str, monitor: dict[str, Any]) -> dict[str, Any]:
    """Run the steps as the contract says; the values extracted, or where it stopped."""
    values = {**monitor["variables"], **monitor["secrets"]}

    def text(value: str) -> str:
        # The file writes a step's own ${NAME} as $${NAME} (config-as-code's escape).
        return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], value.replace("$${", "${"))

    for index, step in enumerate(monitor["steps"]):
        action = step["action"]
        try:
            if action == "goto":
                page.goto(base + text(step["url"]))
            elif action == "click":
                locate(page, step).click(timeout=STEP_TIMEOUT_MS)
            elif action == "fill":
                locate(page, step).fill(text(step["value"]), timeout=STEP_TIMEOUT_MS)
            elif action in ("expect_url", "wait_for"):
                page.wait_for_url(text(step["url"]), timeout=STEP_TIMEOUT_MS)
            elif action == "expect_visible":
                locate(page, step).wait_for(state="visible", timeout=STEP_TIMEOUT_MS)
            elif action == "extract":
                values[step["into"]] = locate(page, step).inner_text(timeout=STEP_TIMEOUT_MS)
            elif action == "screenshot":
                assert page.screenshot()
            else:
                raise AssertionError(f"the demo uses no {action} step")
        except Exception as exc:  # a step failing is the result
            return {"failed_step": index, "error": str(exc), "values": values}
    return {"failed_step": None, "values": values}


def new_page(browser: Any) -> tuple[Any, list[str]]:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def test_it_completes_the_demo_purchase_in_a_browser(shop, browser):
    page, errors = new_page(browser)
    result = run_steps(page, shop, purchase_monitor())
    assert result["failed_step"] is None, result
    assert re.fullmatch(r"DS-\d{6}", result["values"]["ORDER"])
    assert page.url.endswith(f"/order/{result['values']['ORDER']}")
    assert errors == []
    page.context.close()


def test_it_fails_at_the_payment_while_pages_answer_200(shop, browser):
    set_demo_mode("payment")
    page, errors = new_page(browser)
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if r.request.is_navigation_request() else None,
    )
    steps = purchase_monitor()["steps"]
    result = run_steps(page, shop, purchase_monitor())
    assert steps[result["failed_step"]]["description"] == "The payment goes through"
    assert steps[result["failed_step"] - 1]["name"] == "Pay now"
    assert statuses and all(s < 400 for s in statuses), "no page the customer saw failed"
    assert "payment provider did not answer" in page.get_by_role("alert").inner_text()
    assert any("Payment failed: HTTP 502" in e for e in errors)
    page.context.close()


LCP = """() => new Promise(resolve => {
  new PerformanceObserver(list => {
    const last = list.getEntries().at(-1);
    resolve([last.element && last.element.tagName, last.startTime]);
  }).observe({type: "largest-contentful-paint", buffered: true});
})"""


def test_it_makes_the_hero_image_the_late_largest_paint_in_heavy_mode(shop, browser):
    page, _errors = new_page(browser)
    page.goto(shop + "/", wait_until="load")
    page.wait_for_timeout(500)  # the image's paint is reported a frame or two after load
    tag, light_ms = page.evaluate(LCP)
    assert tag == "IMG" and light_ms < 1_000
    set_demo_mode("heavy")
    page.goto(shop + "/", wait_until="load")
    page.wait_for_timeout(500)
    tag, heavy_ms = page.evaluate(LCP)
    assert tag == "IMG" and heavy_ms >= 1_500
    page.context.close()
