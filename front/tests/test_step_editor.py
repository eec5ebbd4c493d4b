"""The step editor of a transaction monitor's form: stored steps round-trip through its rows,
rows are added, moved and removed without JavaScript, errors land on their row and column,
secrets are never shown back.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from front import step_editor
from front.kind_forms import monitor_form_class
from front.tests.conftest import signed_in
from front.tests.monitor_posts import form_data
from monitoring.checks import validate_options
from monitoring.models import CheckKind, Monitor

pytestmark = pytest.mark.django_db

# The contract's example steps (one of each action), as stored.
STEPS: list[dict[str, Any]] = [
    {"action": "goto", "url": "/product/1"},
    {"action": "click", "role": "button", "name": "Add to cart"},
    {"action": "fill", "label": "Card number", "value": "${CARD}"},
    {"action": "select", "label": "Country", "value": "PL"},
    {"action": "check", "label": "I accept the terms", "checked": False},
    {"action": "press", "css": "#search", "key": "Enter"},
    {"action": "wait_for", "text": "Thank you", "timeout": 20.0},
    {"action": "wait_for", "network_idle": True},
    {"action": "expect_text", "contains": "Order number"},
    {"action": "expect_visible", "test_id": "order-number"},
    {"action": "expect_url", "url": "**/confirmation*"},
    {"action": "expect_title", "title": "Thank you"},
    {"action": "expect_status", "status": 200},
    {"action": "extract", "test_id": "order-number", "into": "ORDER"},
    {"action": "screenshot", "description": "Confirmation page"},
    {"action": "click", "role": "link", "name": "Shop", "exact": True},
]


def rows_posted(rows: list[dict[str, str]]) -> dict[str, str]:
    data = {"steps-count": str(len(rows))}
    for index, row in enumerate(rows):
        for column, value in row.items():
            data[f"steps-{index}-{column}"] = value
    return data


def row(**values: str) -> dict[str, str]:
    return {column: values.get(column, "") for column in step_editor.COLUMNS}


@pytest.fixture
def purchase(world) -> Monitor:
    return Monitor.objects.create(
        site=world.site_a,
        name="Purchase",
        kind=CheckKind.TRANSACTION,
        url="https://a.example/",
        config={
            "variables": {"EMAIL": "buyer@example.com"},
            "secrets": {"CARD": "4242 4242 4242 4242"},
            "steps": STEPS,
        },
    )


def shown_rows(form) -> list[dict[str, str]]:
    """What the editor shows, as a browser would post it back."""
    return [{c["column"]: c["value"] for c in r["fields"]} for r in form.step_editor_rows()]


def test_it_round_trips_every_kind_of_step_through_a_row():
    rows = [step_editor.row_from_step(step) for step in STEPS]
    steps = [step_editor.step_from_row(row) for row in rows]
    assert all(not problems for _step, problems in steps)
    options = {"secrets": {"CARD": "x"}, "steps": [step for step, _problems in steps]}
    assert validate_options("transaction", options)["steps"] == STEPS


def test_it_saves_the_steps_it_showed_unchanged(world, purchase):
    browser = signed_in(world.owner)
    page = browser.get(reverse("front:monitor_edit", args=[purchase.pk]))
    form = page.context["form"]
    html = page.content.decode()
    assert 'name="steps-2-value" id="id_steps-2-value" value="${CARD}"' in html
    assert "4242" not in html, "a secret is never shown back"
    assert "Stored: CARD." in html
    assert len(form.step_rows) == len(STEPS) + step_editor.EMPTY_ROWS
    data = {**form_data("transaction", purchase), **rows_posted(shown_rows(form))}
    response = browser.post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    purchase.refresh_from_db()
    assert purchase.config["steps"] == STEPS
    assert purchase.config["secrets"] == {"CARD": "4242 4242 4242 4242"}
    assert purchase.config["variables"] == {"EMAIL": "buyer@example.com"}


def test_it_creates_a_transaction_from_rows_and_secret_lines(world):
    browser = signed_in(world.engineer)
    rows = [
        row(action="goto", value="/cart"),
        row(action="fill", find="label", locator="Card number", value="${CARD}"),
        row(action="click", find="role", locator="button", name="Pay now", description="Pay"),
        row(),
    ]
    data = {
        **form_data("transaction"),
        "name": "Checkout",
        "url": "https://a.example/",
        "secrets": "CARD=4000 0000 0000 0002",
        **rows_posted(rows),
    }
    url = reverse("front:monitor_new", args=[world.site_a.pk]) + "?kind=transaction"
    assert browser.post(url, data).status_code == 302
    monitor = Monitor.objects.get(name="Checkout")
    assert monitor.config["steps"] == [
        {"action": "goto", "url": "/cart"},
        {"action": "fill", "label": "Card number", "value": "${CARD}"},
        {"action": "click", "role": "button", "name": "Pay now", "description": "Pay"},
    ]
    assert monitor.config["secrets"] == {"CARD": "4000 0000 0000 0002"}


def post_new(world, rows: list[dict[str, str]], **typed: str):
    data = {**form_data("transaction"), "name": "Broken", "url": "https://a.example/", **typed}
    url = reverse("front:monitor_new", args=[world.site_a.pk]) + "?kind=transaction"
    response = signed_in(world.owner).post(url, {**data, **rows_posted(rows)})
    assert response.status_code == 200 and not Monitor.objects.filter(name="Broken").exists()
    return response


def test_it_puts_each_error_on_its_row_and_column(world):
    rows = [
        row(action="goto", value="/cart"),
        row(action="click"),
        row(action="expect_status", value="700"),
    ]
    form = post_new(world, rows).context["form"]
    assert not form.step_rows[0].errors and not form.step_rows[0].step_errors
    assert form.step_rows[1].step_errors, "a click without an element"
    assert list(form.step_rows[2].errors) == ["value"]
    assert any(e.startswith("Step 3, Value: ") for e in form.non_field_errors())


def test_it_names_the_step_and_field_of_an_unknown_variable(world):
    rows = [
        row(action="goto", value="/cart"),
        row(),  # a blank row in between: named by the row's number, as the page shows it
        row(action="fill", find="label", locator="Card number", value="${CARD}"),
    ]
    response = post_new(world, rows, secrets="PIN=1234")
    form = response.context["form"]
    assert form.step_rows[2].errors == {"value": ["unknown variable ${CARD}"]}
    assert "Step 3, Value: unknown variable ${CARD}" in form.non_field_errors()
    html = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="id_steps-2-value-error"' in html
    assert "1234" not in html


def test_it_says_which_row_it_cannot_read(world):
    rows = [row(action="click", locator="#pay"), row(action="goto", value="/", other="junk")]
    form = post_new(world, rows).context["form"]
    assert list(form.step_rows[0].errors) == ["find"]
    assert list(form.step_rows[1].errors) == ["other"]


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("up-1", ["/b", "/a", "/c"]),
        ("down-0", ["/b", "/a", "/c"]),
        ("remove-1", ["/a", "/c"]),
        ("add", ["/a", "/b", "/c"]),
    ],
)
def test_it_moves_adds_and_removes_rows_without_saving(world, purchase, op, expected):
    rows = [row(action="goto", value=path) for path in ("/a", "/b", "/c")]
    data = {**form_data("transaction", purchase), **rows_posted(rows), "step_op": op}
    response = signed_in(world.owner).post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.errors, "an editing button judges nothing"
    shown = [r.values["value"] for r in form.step_rows if not r.blank]
    assert shown == expected
    blanks = sum(r.blank for r in form.step_rows)
    assert blanks == step_editor.EMPTY_ROWS + (step_editor.ADD_ROWS if op == "add" else 0)
    purchase.refresh_from_db()
    assert purchase.config["steps"] == STEPS


def test_it_keeps_a_named_secret_and_replaces_the_others(world, purchase):
    purchase.config = {**purchase.config, "secrets": {"CARD": "4242", "PASSWORD": "old"}}
    purchase.save()
    browser = signed_in(world.owner)
    form = browser.get(reverse("front:monitor_edit", args=[purchase.pk])).context["form"]
    data = {**form_data("transaction", purchase), **rows_posted(shown_rows(form))}
    data["secrets"] = "CARD\nTOKEN=new"
    response = browser.post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.config["secrets"] == {"CARD": "4242", "TOKEN": "new"}


def test_it_asks_for_a_value_of_a_new_secret_name(world, purchase):
    browser = signed_in(world.owner)
    form = browser.get(reverse("front:monitor_edit", args=[purchase.pk])).context["form"]
    data = {**form_data("transaction", purchase), **rows_posted(shown_rows(form))}
    data["secrets"] = "PIN"
    response = browser.post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["secrets"] == [
        "PIN has no stored value: write PIN=value."
    ]
    html = response.content.decode()
    assert "PIN</textarea>" not in html, "what was typed as a secret is not shown back"


def test_it_builds_the_editor_only_for_transactions():
    assert not hasattr(monitor_form_class("http")(), "step_rows")
    assert "steps" not in monitor_form_class("transaction")().fields


RECORDING = """from playwright.sync_api import Page, expect


def test_example(page: Page) -> None:
    page.goto("http://127.0.0.1:8001/product/1")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    expect(page.get_by_text("Order number")).to_be_visible()
"""


def test_it_imports_a_recording_after_the_rows_without_saving(world, purchase):
    rows = [row(action="goto", value="/a")]
    data = {
        **form_data("transaction", purchase),
        **rows_posted(rows),
        "recording": RECORDING,
        "step_op": "import",
    }
    response = signed_in(world.owner).post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    assert response.status_code == 200
    form = response.context["form"]
    shown = [(r.values["action"], r.values["value"]) for r in form.step_rows if not r.blank]
    assert shown == [
        ("goto", "/a"),
        ("goto", "http://127.0.0.1:8001/product/1"),
        ("click", ""),
        ("fill", "4242 4242 4242 4242"),
        ("expect_visible", ""),
    ]
    purchase.refresh_from_db()
    assert purchase.config["steps"] == STEPS, "importing only shows the rows: Save stores them"


def test_it_names_the_line_of_a_recording_it_cannot_import(world, purchase):
    rows = [row(action="goto", value="/a")]
    recording = 'import os\nos.system("touch /tmp/nope")\n'
    data = {
        **form_data("transaction", purchase),
        **rows_posted(rows),
        "recording": recording,
        "step_op": "import",
    }
    response = signed_in(world.owner).post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    form = response.context["form"]
    assert [r.values["value"] for r in form.step_rows if not r.blank] == ["/a"]
    assert any("line 1" in message for message in form.import_errors)
    assert "The recording was not imported" in response.content.decode()


def test_it_says_where_the_imported_steps_went_and_empties_the_recording(world, purchase):
    rows = [row(action="goto", value="/a")]
    data = {
        **form_data("transaction", purchase),
        **rows_posted(rows),
        "recording": RECORDING,
        "step_op": "import",
    }
    response = signed_in(world.owner).post(reverse("front:monitor_edit", args=[purchase.pk]), data)
    form = response.context["form"]
    assert form.import_note == "Imported as steps 2–5. Check them, then save the monitor."
    assert form.import_first == 2
    html = response.content.decode()
    assert 'href="#step-2"' in html
    assert "get_by_role" not in html, "pressing Import again must not add the steps twice"


def test_it_opens_the_page_at_the_row_an_editing_button_moved(world, purchase):
    url = reverse("front:monitor_edit", args=[purchase.pk])
    html = signed_in(world.owner).get(url).content.decode()
    last = len(STEPS) - 1
    assert f'value="up-1" formaction="{url}#step-1"' in html
    assert f'value="down-0" formaction="{url}#step-2"' in html
    assert f'value="remove-1" formaction="{url}#step-2"' in html
    assert f'formaction="{url}#steps-new"' in html and 'id="steps-new"' in html
    assert f'formaction="{url}#steps-import"' in html
    assert f'value="down-{last - 1}"' in html
    assert f'value="down-{last}"' not in html, "nothing but blank rows under the last step"
