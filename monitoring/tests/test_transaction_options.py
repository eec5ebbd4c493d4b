"""A transaction's options, without a browser: errors name the step and field in the reader's
language through every door, ${NAME} references are checked, secrets are never shown back."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.utils import translation
from pydantic import ValidationError

from api.tests.conftest import ApiCaller
from core.configcode import ConfigError
from core.configcode.validate import validate_text
from monitoring.browser.redact import Redactor, scrub_trace
from monitoring.browser.step_actions import glob_matches, glob_regex
from monitoring.browser.steps import Step, substitute, summary
from monitoring.checks.transaction import Options, check_budget_s
from monitoring.models import CheckKind, Monitor
from monitoring.spec import mask_secrets, parse_monitor, unmask_secrets
from sitecare.lib.validation_messages import error_message
from tenancy.models import ApiToken

CARD = "4242 4242 4242 4242"
SHOP = "https://shop.example/"
STEPS: list[dict[str, Any]] = [
    {"action": "goto", "url": "/checkout"},
    {"action": "fill", "label": "Card number", "value": "${CARD}"},
    {"action": "click", "role": "button", "name": "Pay"},
    {"action": "extract", "test_id": "order-number", "into": "ORDER"},
    {"action": "expect_text", "contains": "Order ${ORDER} for ${EMAIL}"},
]


def api_as(user: Any) -> ApiCaller:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiCaller(raw)


def definition(steps: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    return {
        "name": "Checkout",
        "kind": "transaction",
        "url": SHOP,
        "variables": {"EMAIL": "jan@example.com"},
        "secrets": {"CARD": CARD},
        "steps": steps,
        **options,
    }


def errors_of(data: dict[str, Any], language: str = "en") -> dict[str, str]:
    with translation.override(language), pytest.raises(ValidationError) as refused:
        parse_monitor(data, [])
        return {}
    with translation.override(language):
        return {
            ".".join(str(p) for p in e["loc"]): error_message(e) for e in refused.value.errors()
        }


def test_it_accepts_the_contracts_steps_and_keeps_them_as_written() -> None:
    parsed = parse_monitor(definition(STEPS, device="mobile", block_hosts=["*.Ads.example"]), [])
    assert parsed.options["steps"] == STEPS
    assert parsed.options["block_hosts"] == ["*.ads.example"]
    assert parsed.options["device"] == "mobile"


BAD: list[tuple[dict[str, Any], str, str, str]] = [
    (
        {"action": "click", "role": "button", "css": "#pay"},
        "steps.1.css",
        "one way to find the element: role or css, not both",
        "jeden sposób znalezienia elementu: role albo css, nie oba",
    ),
    (
        {"action": "fill", "label": "Card number"},
        "steps.1.value",
        "a fill step needs this field",
        "krok fill wymaga tego pola",
    ),
    (
        {"action": "goto", "url": "/", "label": "Pay"},
        "steps.1.label",
        "a goto step does not take this field",
        "krok goto nie przyjmuje tego pola",
    ),
    (
        {"action": "click"},
        "steps.1",
        "a click step needs an element: role, label, text, test_id or css",
        "krok click wymaga elementu: role, label, text, test_id albo css",
    ),
    (
        {"action": "goto", "url": "javascript:alert(1)"},
        "steps.1.url",
        "an http(s) address or a path like /cart",
        "adres http(s) albo ścieżka, np. /cart",
    ),
    (
        {"action": "click", "role": "buton"},
        "steps.1.role",
        "not an ARIA role (e.g. button, link, textbox, checkbox)",
        "to nie jest rola ARIA (np. button, link, textbox, checkbox)",
    ),
    (
        # Playwright reads ">>" as a chain into other selector engines (xpath=, internal:…).
        {"action": "click", "css": "form >> xpath=//button"},
        "steps.1.css",
        "a CSS selector only: “>>” would chain another selector engine",
        "tylko selektor CSS: „>>” dołączyłoby inny silnik selektorów",
    ),
    (
        {"action": "expect_status", "status": 700},
        "steps.1.status",
        "must be at most 599",
        "musi wynosić co najwyżej 599",
    ),
]


@pytest.mark.parametrize(("step", "field", "english", "polish"), BAD)
def test_it_names_the_step_and_field_in_english_and_polish(step, field, english, polish) -> None:
    data = definition([STEPS[0], step])
    assert errors_of(data, "en") == {field: english}
    assert errors_of(data, "pl") == {field: polish}


def test_it_refuses_unknown_variables_where_they_are_used() -> None:
    early = [STEPS[0], {"action": "expect_text", "contains": "${ORDER}"}, *STEPS[1:4]]
    assert errors_of(definition(early)) == {"steps.1.contains": "unknown variable ${ORDER}"}
    assert errors_of(definition(early), "pl") == {"steps.1.contains": "nieznana zmienna ${ORDER}"}
    typo = [STEPS[0], {"action": "fill", "label": "Card number", "value": "${CRAD}"}]
    assert errors_of(definition(typo)) == {"steps.1.value": "unknown variable ${CRAD}"}
    clash = definition(STEPS, variables={"CARD": "x", "EMAIL": "e"})
    assert errors_of(clash) == {"secrets": "CARD is both a variable and a secret"}
    assert errors_of(definition([])) == {"steps": "a transaction needs at least one step"}


def test_it_gives_the_same_field_through_yaml_and_the_api(world) -> None:
    """In a YAML file ``${NAME}`` reads the environment: a step's reference is ``$${CRAD}``."""
    steps = [STEPS[0], {"action": "fill", "label": "Card number", "value": "$${CRAD}"}]
    document = {
        "agency": {"slug": "a1", "name": "A1"},
        "clients": [
            {
                "slug": "c",
                "name": "C",
                "sites": [{"slug": "s", "name": "S", "monitors": [definition(steps)]}],
            }
        ],
    }
    with translation.override("pl"), pytest.raises(ConfigError) as refused:
        validate_text(yaml.safe_dump(document, allow_unicode=True))
    (issue,) = refused.value.issues
    assert issue.loc[-3:] == ("steps", 1, "value")
    assert issue.message == "nieznana zmienna ${CRAD}"
    api = api_as(world.owner)
    response = api.call("POST", "/monitors", {"site": world.site_a.pk, **definition(steps)})
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("steps.1.value", "unknown variable ${CRAD}")
    ]


def test_it_never_shows_a_secret_back_and_keeps_it_when_sent_back_masked(world) -> None:
    config = parse_monitor(definition(STEPS), []).options
    assert mask_secrets("transaction", config)["secrets"] == {"CARD": "***"}
    assert unmask_secrets("transaction", {"secrets": {"CARD": "***"}}, config) == {
        "secrets": {"CARD": CARD}
    }
    monitor = Monitor.objects.create(
        site=world.site_a, name="Pay", kind=CheckKind.TRANSACTION, url=SHOP, config=config
    )
    api = api_as(world.client_a_user)
    shown = api.get(f"/monitors/{monitor.pk}")
    assert shown.status_code == 200 and CARD.encode() not in shown.content
    assert shown.json()["options"]["secrets"] == {"CARD": "***"}
    body = {"name": "Pay", "kind": "transaction", "url": SHOP} | shown.json()["options"]
    put = api_as(world.owner).put(f"/monitors/{monitor.pk}", body)
    assert put.status_code == 200, put.content
    monitor.refresh_from_db()
    assert monitor.config["secrets"] == {"CARD": CARD}
    assert api_as(world.client_b_user).get(f"/monitors/{monitor.pk}").status_code == 404


def test_it_substitutes_variables_and_summarises_without_values() -> None:
    values = {"CARD": CARD, "ORDER": "A-1"}
    assert substitute("Order ${ORDER}: ${CARD}", values) == f"Order A-1: {CARD}"
    step = Step.model_validate(STEPS[1])
    assert summary(step) == "fill “Card number” “${CARD}”"
    click = Step.model_validate({"action": "click", "role": "button", "name": "Pay"})
    assert summary(click) == "click button “Pay”"
    extract = Step.model_validate(STEPS[3])
    assert summary(extract) == "extract test_id order-number → ORDER"


def test_it_budgets_the_whole_run_from_its_steps() -> None:
    options = Options.model_validate(
        {"step_timeout": 5, "steps": [{"action": "goto", "url": "/"}, {**STEPS[2], "timeout": 20}]}
    )
    assert check_budget_s(options) == 5 + 20 + 15
    assert options.timeout_of(options.steps[1]) == 20


def test_it_matches_playwright_url_globs() -> None:
    assert glob_regex("**/confirmation*").match("https://s.example/confirmation?order=A-1")
    assert not glob_regex("*/confirmation").match("https://s.example/confirmation")
    assert glob_regex("https://s.example/cart").match("https://s.example/cart")


GLOBS = [
    ("**/confirmation*", "https://s.example/confirmation?order=A-1"),
    ("*/confirmation", "https://s.example/confirmation"),
    ("https://s.example/cart", "https://s.example/cart"),
    ("https://s.example/cart", "https://s.example/cart/"),
    ("**", ""),
    ("*", "a/b"),
    ("*/*", "a/b"),
    ("https://*.example/**", "https://s.example/a/b"),
    ("https://*.example/*", "https://s.example/a/b"),
    ("**a*b", "https://x/aab"),
    ("**a*b", "https://x/a/b"),
    ("a**", "ba"),
]


@pytest.mark.parametrize(("pattern", "url"), GLOBS)
def test_it_matches_url_globs_as_the_regex_does(pattern: str, url: str) -> None:
    assert glob_matches(pattern, url) == bool(glob_regex(pattern).match(url))


def test_it_matches_a_url_glob_in_linear_time_not_by_backtracking() -> None:
    started = time.monotonic()
    assert not glob_matches("**a**a**a**a**a**a**b", "https://x/" + "a" * 2000)
    assert time.monotonic() - started < 1.0  # the regex: hours


def test_it_scrubs_every_form_of_a_secret_from_texts_and_traces(tmp_path: Path) -> None:
    redactor = Redactor([CARD, "ab"])  # too short to mask: left alone
    assert redactor.text(f"card={CARD.replace(' ', '+')}&x=ab") == "card=***&x=ab"
    assert redactor.deep({"a": [f"'{CARD}'"], "n": 1}) == {"a": ["'***'"], "n": 1}
    path = tmp_path / "trace.zip"
    with zipfile.ZipFile(path, "w") as trace:
        frame = json.dumps({"type": "screencast-frame", "sha1": "f.jpeg"})
        fill = json.dumps({"type": "before", "params": {"value": CARD}})
        trace.writestr("trace.trace", f"{fill}\n{frame}\n")
        trace.writestr("resources/post.dat", f"card={CARD.replace(' ', '%20')}")
        trace.writestr("screencast/f.jpeg", b"\xff\xd8 pixels")
    path.chmod(0o600)
    scrub_trace(path, redactor, drop_screencast=True)
    with zipfile.ZipFile(path) as trace:
        assert trace.namelist() == ["trace.trace", "resources/post.dat"]
        assert (
            trace.read("trace.trace")
            == json.dumps({"type": "before", "params": {"value": "***"}}).encode() + b"\n"
        )
        assert trace.read("resources/post.dat") == b"card=***"
    assert path.stat().st_mode & 0o777 == 0o600
    assert io.BytesIO(path.read_bytes()).getvalue().startswith(b"PK")
