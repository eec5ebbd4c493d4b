"""The demo's browser monitors (examples/demo.yaml): a purchase written in the transaction
contract's steps and a speed monitor with budgets, both reaching the loopback shop only through
the demo agency's allowlist."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.configcode import apply_file
from core.configcode.validate import validate_text
from monitoring.models import CheckKind, Monitor
from monitoring.spec import parse_monitor
from tenancy.models import Organization

DEMO = Path(__file__).resolve().parent.parent.parent / "examples" / "demo.yaml"
DEMO_ENV = (
    "SITECARE_DEMO_PORT",
    "SITECARE_DEMO_TRANSACTION_INTERVAL",
    "SITECARE_DEMO_SPEED_INTERVAL",
)


@pytest.fixture
def demo_monitors(db, monkeypatch) -> dict[str, Monitor]:
    for name in DEMO_ENV:
        monkeypatch.delenv(name, raising=False)
    apply_file(DEMO)
    org = Organization.objects.get(slug="demo")
    return {m.name: m for m in Monitor.objects.filter(site__client__organization=org)}


def test_it_ships_a_whole_purchase_as_a_transaction(demo_monitors):
    purchase = demo_monitors["Purchase"]
    assert purchase.kind == CheckKind.TRANSACTION
    assert purchase.url == "http://127.0.0.1:8001/"
    assert (purchase.interval_s, purchase.confirm_down) == (60, 2)
    steps = purchase.config["steps"]
    assert [step["action"] for step in steps] == [
        "goto",
        "click",
        "expect_url",
        "click",
        "fill",
        "fill",
        "fill",
        "click",
        "wait_for",
        "expect_visible",
        "extract",
        "screenshot",
    ]
    # The YAML's $${CARD} (config-as-code's escape) is the step's own ${CARD}.
    assert {"action": "fill", "label": "Card number", "value": "${CARD}"} in steps
    assert purchase.config["secrets"] == {"CARD": "4242 4242 4242 4242"}
    assert steps[-2] == {"action": "extract", "test_id": "order-number", "into": "ORDER"}


def test_it_ships_a_mobile_speed_monitor_with_budgets(demo_monitors):
    speed = demo_monitors["Home page speed"]
    assert speed.kind == CheckKind.SPEED
    assert speed.url == "http://127.0.0.1:8001/"
    assert speed.config.get("profile", "mobile") == "mobile"
    assert speed.config["budgets"] == {"lcp_ms": 2500, "cls": 0.1}


def test_it_reaches_the_loopback_shop_only_through_the_demo_allowlist(db):
    for kind in (CheckKind.TRANSACTION, CheckKind.SPEED):
        data: dict[str, Any] = {"name": "Shop", "kind": kind, "url": "http://127.0.0.1:8001/"}
        if kind == CheckKind.TRANSACTION:
            data["steps"] = [{"action": "goto", "url": "/"}]
        allowlist = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
        assert parse_monitor(data, allowlist).common.url == "http://127.0.0.1:8001/"
        with pytest.raises(ValidationError) as refused:
            parse_monitor(data, ())
        assert [e["loc"] for e in refused.value.errors()] == [("url",)]


def test_it_validates_the_demo_against_the_kinds_own_options(db, monkeypatch):
    for name in DEMO_ENV:
        monkeypatch.delenv(name, raising=False)
    validate_text(DEMO.read_text())
