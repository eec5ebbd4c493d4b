"""A ``playwright codegen --target python`` recording becomes steps: parsed, never run."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from monitoring.browser.codegen import RecordingError, steps_from_recording
from monitoring.checks.transaction import Options

RECORDING = """import re
from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("https://shop.example/")
    page.get_by_role("link", name="Red shoes").click()
    page.get_by_role("button", name="Add to cart", exact=True).click()
    page.get_by_label("Card number").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_placeholder("Search").fill("shoes")
    page.locator("#search").press("Enter")
    page.keyboard.press("Tab")
    page.get_by_label("Country").select_option("PL")
    page.get_by_label("I accept the terms").check()
    page.get_by_text("Newsletter").uncheck()
    page.get_by_test_id("pay").click(timeout=20000)
    expect(page.get_by_text("Order number")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Thank you")
    expect(page).to_have_url("https://shop.example/confirmation")
    expect(page).to_have_title("Thank you")

    # ---------------------
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
"""
STEPS = [
    {"action": "goto", "url": "https://shop.example/"},
    {"action": "click", "role": "link", "name": "Red shoes"},
    {"action": "click", "role": "button", "name": "Add to cart", "exact": True},
    {"action": "fill", "label": "Card number", "value": "4242 4242 4242 4242"},
    {"action": "fill", "css": '[placeholder*="Search" i]', "value": "shoes"},
    {"action": "press", "css": "#search", "key": "Enter"},
    {"action": "press", "key": "Tab"},
    {"action": "select", "label": "Country", "value": "PL"},
    {"action": "check", "label": "I accept the terms"},
    {"action": "check", "text": "Newsletter", "checked": False},
    {"action": "click", "test_id": "pay", "timeout": 20.0},
    {"action": "expect_visible", "text": "Order number"},
    {"action": "expect_text", "css": "h1", "contains": "Thank you"},
    {"action": "expect_url", "url": "https://shop.example/confirmation"},
    {"action": "expect_title", "title": "Thank you"},
]


def test_it_turns_each_supported_call_into_a_step() -> None:
    steps = steps_from_recording(RECORDING)
    assert steps == STEPS
    Options.model_validate({"steps": steps})  # a monitor's options as they are


def test_it_reads_a_pytest_recording_too() -> None:
    text = (
        "from playwright.sync_api import Page, expect\n\n\n"
        "def test_example(page: Page) -> None:\n"
        '    page.goto("https://shop.example/")\n'
        '    expect(page.get_by_role("heading")).to_have_text("Shop")\n'
    )
    assert steps_from_recording(text) == [
        {"action": "goto", "url": "https://shop.example/"},
        {"action": "expect_text", "role": "heading", "contains": "Shop"},
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            'page.goto("https://a.example/")\npage.evaluate("fetch(1)")',
            "line 2: not supported: page.evaluate('fetch(1)')",
        ),
        (
            'page.get_by_role("button", name=f"{x}").click()',
            "line 1: only plain text values are supported: f'{x}'",
        ),
        (
            'page.locator("#a").first.click()',
            "line 1: not supported: page.locator('#a').first.click()",
        ),
        ('page.get_by_alt_text("logo").click()', "line 1: unsupported locator get_by_alt_text"),
        ("x = 1", "line 1: not supported: x = 1"),
        ('page.goto("https://a.example/"', "line 1: not valid Python: '(' was never closed"),
        (
            'page.get_by_role("buton").click()',
            "line 1: role: not an ARIA role (e.g. button, link, textbox, checkbox)",
        ),
        ("import re", "the recording has no steps (no page.goto, click, fill…)"),
    ],
)
def test_it_names_the_line_it_cannot_read(text: str, error: str) -> None:
    with pytest.raises(RecordingError) as refused:
        steps_from_recording(text)
    assert str(refused.value) == error


def test_it_rejects_a_malicious_recording_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f'import os\nos.system("touch {marker}")\nopen("{marker}", "w")\n'
    with pytest.raises(RecordingError, match="line 1: only Playwright's imports are allowed"):
        steps_from_recording(text)
    hidden = f'page.goto("https://a.example/")\n__import__("os").system("touch {marker}")\n'
    with pytest.raises(RecordingError, match="line 2: not supported"):
        steps_from_recording(hidden)
    assert not marker.exists()


def test_it_prints_the_steps_as_yaml_for_config_as_code(tmp_path: Path) -> None:
    recording = tmp_path / "checkout.py"
    recording.write_text(RECORDING, encoding="utf-8")
    out = io.StringIO()
    call_command("import-recording", str(recording), stdout=out)
    assert yaml.safe_load(out.getvalue()) == {"steps": STEPS}
    assert "- {action: goto, url: 'https://shop.example/'}" in out.getvalue()
    recording.write_text("import subprocess\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: only Playwright's imports"):
        call_command("import-recording", str(recording))
