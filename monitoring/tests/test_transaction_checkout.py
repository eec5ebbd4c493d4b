"""A transaction in real Chromium against a local shop (acceptance): the six-step checkout
passes; each injected fault fails at the right step with the right class, a screenshot and a
trace, and the test card number shows up nowhere sitecare keeps."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from monitoring.browser import artifacts
from monitoring.browser.transaction_check import run_in_browser
from monitoring.engine.store import target_of
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import ArtifactKind, BrowserArtifact, CheckKind, Monitor
from monitoring.tests.checkout_site import BLOCKED_HOST, CARD, ORDER, Shop, served
from monitoring.tests.loopback import free_port
from sitecare.tests.browser import needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db]

CHECKOUT: list[dict[str, Any]] = [
    {"action": "goto", "url": "/product/1"},
    {"action": "click", "role": "button", "name": "Add to cart"},
    {"action": "click", "role": "link", "name": "Checkout"},
    {"action": "fill", "label": "Card number", "value": "${CARD}"},
    {"action": "click", "role": "button", "name": "Pay"},
    {"action": "expect_text", "contains": "Order number"},
]
# Forms in which the card number could leak into what sitecare keeps.
CARD_FORMS = [CARD.encode(), CARD.replace(" ", "+").encode(), CARD.replace(" ", "%20").encode()]


@pytest.fixture
def shop(settings, tmp_path: Path):
    settings.SITECARE_ARTIFACT_DIR = str(tmp_path / "artifacts")
    with served(Shop()) as running:
        yield running


def target_for(world, shop: Shop, steps: list[dict[str, Any]], **config: Any) -> CheckTarget:
    """A transaction monitor on the local shop, in an agency whose allowlist admits loopback."""
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    monitor = Monitor.objects.create(
        site=world.site_a,
        name="Checkout",
        kind=CheckKind.TRANSACTION,
        url=shop.url,
        config={"step_timeout": 5, "secrets": {"CARD": CARD}, "steps": steps, **config},
    )
    return target_of(monitor, world.agency.allowed_networks())


def assert_no_card(outcome: Outcome) -> None:
    kept = (outcome.message + json.dumps(outcome.details)).encode()
    assert not any(form in kept for form in CARD_FORMS)


def test_it_passes_the_six_step_checkout(world, shop) -> None:
    outcome = run_in_browser(target_for(world, shop, CHECKOUT))
    assert outcome.ok, outcome.message
    details = outcome.details or {}
    assert details["failed_step"] is None
    assert [step["ok"] for step in details["steps"]] == [True] * 6
    assert [step["action"] for step in details["steps"]][:2] == ["goto", "click"]
    assert details["steps"][3]["summary"] == "fill “Card number” “${CARD}”"
    assert all(step["ms"] > 0 for step in details["steps"])
    assert details["device"] == "desktop" and details["browser"]
    assert details["artifacts"] == [] and not BrowserArtifact.objects.exists()
    assert outcome.status_code == 200
    assert shop.paid[-1]["card"] == CARD, "the secret was typed into the page"
    assert_no_card(outcome)


FAULTS = [
    ("missing_button", 1, FailureClass.ELEMENT_NOT_FOUND, "no element matches button “Add"),
    ("pay_500", 4, FailureClass.HTTP_STATUS, "HTTP 500"),
    ("js_error", 4, FailureClass.SCRIPT_ERROR, "Cannot read properties of undefined"),
    ("slow", 4, FailureClass.STEP_TIMEOUT, "did not finish within 2 s"),
    ("redirect", 4, FailureClass.REQUEST_BLOCKED, BLOCKED_HOST),
    ("changed_text", 5, FailureClass.ASSERTION_FAILED, "does not contain “Order number”"),
]


@pytest.mark.parametrize(
    ("fault", "index", "failure_class", "words"), FAULTS, ids=[f[0] for f in FAULTS]
)
def test_it_fails_at_the_faulty_step_with_a_screenshot_and_a_trace(
    world, shop, fault, index, failure_class, words
) -> None:
    shop.fault = fault
    steps = [dict(step) for step in CHECKOUT]
    if fault == "slow":
        # Only the slow fault gets a tight pay step: the others must not turn into timeouts
        # when a loaded machine is slow (a 2 s step flaked under a full test run).
        steps[4]["timeout"] = 2
    target = target_for(world, shop, steps, block_hosts=[BLOCKED_HOST])
    outcome = run_in_browser(target)
    details = outcome.details or {}
    assert not outcome.ok
    assert (details["failed_step"], outcome.failure_class) == (index, failure_class), (
        outcome.message
    )
    assert outcome.message.startswith(f"Step {index + 1} ("), outcome.message
    assert words in outcome.message
    assert details["steps"][index]["error"] and not details["steps"][index]["ok"]
    assert len(details["steps"]) == index + 1, "the run stops at the failing step"
    kept = {a.kind: a for a in BrowserArtifact.objects.filter(monitor_id=target.monitor_id)}
    assert set(kept) == {ArtifactKind.SCREENSHOT, ArtifactKind.TRACE}
    assert {a["kind"]: a["step"] for a in details["artifacts"]} == {
        "screenshot": index,
        "trace": index,
    }
    screenshot = artifacts.file_of(kept[ArtifactKind.SCREENSHOT])
    assert screenshot is not None and screenshot.read_bytes().startswith(b"\x89PNG")
    trace = artifacts.file_of(kept[ArtifactKind.TRACE])
    assert trace is not None
    assert_trace_opens_and_hides_the_card(trace, typed=index > 3)
    assert_no_card(outcome)


def assert_trace_opens_and_hides_the_card(path: Path, *, typed: bool) -> None:
    """What ``playwright show-trace`` reads is there; the card number is not."""
    with zipfile.ZipFile(path) as trace:
        names = trace.namelist()
        assert {"trace.trace", "trace.network"} <= set(names)
        events = [json.loads(line) for line in trace.read("trace.trace").splitlines() if line]
        assert events[0]["type"] == "context-options"
        assert any(event.get("type") == "before" for event in events)
        for name in names:
            data = trace.read(name)
            assert not any(form in data for form in CARD_FORMS), name
        if typed:
            assert not [name for name in names if name.startswith("screencast/")]


EVERY_ACTION: list[dict[str, Any]] = [
    {"action": "goto", "url": "/"},
    {"action": "expect_title", "title": "Shop"},
    {"action": "click", "text": "Red shoes"},
    {"action": "expect_url", "url": "**/product/1"},
    {"action": "expect_status", "status": 200},
    {"action": "click", "role": "button", "name": "Add to cart"},
    {"action": "wait_for", "url": "**/cart"},
    {"action": "click", "css": "a[href='/checkout']"},
    {"action": "fill", "label": "Email", "value": "${EMAIL}"},
    {"action": "fill", "label": "Card number", "value": "${CARD}"},
    {"action": "select", "label": "Country", "value": "PL"},
    {"action": "check", "label": "I accept the terms"},
    {"action": "press", "label": "Card number", "key": "Enter", "description": "Pay by Enter"},
    {"action": "wait_for", "network_idle": True},
    {"action": "expect_visible", "test_id": "order-number"},
    {"action": "extract", "test_id": "order-number", "into": "ORDER"},
    {"action": "expect_text", "contains": "${ORDER}", "role": "paragraph"},
    {"action": "screenshot", "description": "Confirmation"},
]


def test_it_runs_every_action_on_a_phone(world, shop) -> None:
    target = target_for(
        world, shop, EVERY_ACTION, device="mobile", variables={"EMAIL": "jan@example.com"}
    )
    outcome = run_in_browser(target)
    assert outcome.ok, outcome.message
    details = outcome.details or {}
    assert details["device"] == "mobile" and len(details["steps"]) == len(EVERY_ACTION)
    assert details["steps"][15]["extracted"] == ORDER
    assert shop.paid[-1] == {
        "email": "jan@example.com",
        "card": CARD,
        "country": "PL",
        "terms": "on",
    }
    (shot,) = details["artifacts"]
    assert (shot["kind"], shot["step"], shot["caption"]) == ("screenshot", 17, "Confirmation")
    assert not BrowserArtifact.objects.filter(kind=ArtifactKind.TRACE).exists()
    assert_no_card(outcome)


def test_it_keeps_nothing_on_a_trial(world, shop) -> None:
    shop.fault = "pay_500"
    outcome = run_in_browser(target_for(world, shop, CHECKOUT), keep_artifacts=False)
    assert outcome.failure_class == FailureClass.HTTP_STATUS
    assert (outcome.details or {})["artifacts"] == []
    assert not BrowserArtifact.objects.exists()
    assert not list(Path(artifacts.root()).rglob("*.*"))


def test_it_names_a_refused_connection_behind_the_guard_proxy(world, shop) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    steps = [{"action": "goto", "url": "/product/1"}, {"action": "goto", "url": closed}]
    outcome = run_in_browser(target_for(world, shop, steps), keep_artifacts=False)
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED
    assert (outcome.details or {})["failed_step"] == 1
    assert "refused" in outcome.message


def test_it_keeps_no_secret_a_step_extracted(world, shop) -> None:
    steps = [
        *CHECKOUT[:4],
        {"action": "extract", "label": "Card number", "into": "TYPED"},
        {"action": "expect_text", "contains": "${TYPED}"},  # fails: the text names the value
    ]
    outcome = run_in_browser(target_for(world, shop, steps), keep_artifacts=False)
    details = outcome.details or {}
    assert details["steps"][4]["ok"] and "extracted" in details["steps"][4]
    assert details["failed_step"] == 5
    assert_no_card(outcome)
