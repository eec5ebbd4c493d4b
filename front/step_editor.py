"""The step list editor of a transaction monitor's form: one row per step, plain HTML fields.

A step is a flat mapping (issue 12's contract: ``{"action": "click", "role": "button",
"name": "Pay"}``); a row shows it in fixed columns: the action, how the element is found and
what it is called, the role's accessible name, the action's value (``url``, ``value``, ``key``,
``contains``… whichever the action takes), description, timeout, and "other" (``key: value``
lines for what is left: ``exact``, ``network_idle``…), so any stored step round-trips.

Rows are posted as ``steps-<row>-<column>`` with ``steps-count``; the submit buttons
``step_op=add|up-N|down-N|remove-N`` rearrange rows without JavaScript (nothing is saved).
Judging the steps is the kind's options model's job (``monitoring.spec.parse_monitor``): its
errors at ``steps.<index>.<field>`` come back to the row and column that hold that field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.utils.translation import gettext_lazy as _

from monitoring.browser.steps import LOCATOR_KEYS

ACTION_HELP = {
    "goto": _("open an address"),
    "click": _("click an element"),
    "fill": _("type into a field"),
    "select": _("choose an option"),
    "check": _("tick a box"),
    "press": _("press a key"),
    "wait_for": _("wait for an element, address or quiet network"),
    "expect_text": _("the page shows a text"),
    "expect_visible": _("an element is visible"),
    "expect_url": _("the address matches"),
    "expect_title": _("the title matches"),
    "expect_status": _("the page's HTTP status"),
    "extract": _("keep an element's text as a variable"),
    "screenshot": _("keep a screenshot"),
}
LOCATOR_HELP = {
    "role": _("role (button, link…)"),
    "label": _("label"),
    "text": _("text"),
    "test_id": _("test id"),
    "css": _("CSS selector"),
}
# The one field of each action that the Value column holds.
VALUE_KEY = {
    "goto": "url",
    "fill": "value",
    "select": "value",
    "check": "checked",
    "press": "key",
    "wait_for": "url",
    "expect_text": "contains",
    "expect_url": "url",
    "expect_title": "title",
    "expect_status": "status",
    "extract": "into",
}
COLUMNS = ("action", "find", "locator", "name", "value", "description", "timeout", "other")
COLUMN_LABELS = {
    "action": _("Action"),
    "find": _("Find the element by"),
    "locator": _("Element"),
    "name": _("Name (of a role)"),
    "value": _("Value"),
    "description": _("Description"),
    "timeout": _("Timeout (s)"),
    "other": _("Other (key: value lines)"),
}
EMPTY_ROWS = 2  # blank rows under the steps: room to add without JavaScript
ADD_ROWS = 3  # more blank rows per "add steps"
MAX_ROWS = 60  # the contract allows 50 steps; a few more rows let an error be seen


@dataclass
class StepRow:
    """One row: a text per column, and the errors each column got."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    step_errors: list[str] = field(default_factory=list)  # the step as a whole

    @property
    def blank(self) -> bool:
        return not any(text.strip() for text in self.values.values())


def blank_row() -> StepRow:
    return StepRow({column: "" for column in COLUMNS})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def row_from_step(step: Mapping[str, Any]) -> StepRow:
    """A stored step in the editor's columns (nothing dropped: the rest goes to "other")."""
    rest = dict(step)
    action = _text(rest.pop("action", ""))
    values = {column: "" for column in COLUMNS}
    values["action"] = action
    found = next((key for key in LOCATOR_KEYS if rest.get(key) is not None), None)
    if found:
        values["find"], values["locator"] = found, _text(rest.pop(found))
    value_key = VALUE_KEY.get(action)
    if value_key and value_key in rest:
        values["value"] = _text(rest.pop(value_key))
    for column in ("name", "description", "timeout"):
        values[column] = _text(rest.pop(column, ""))
    values["other"] = "\n".join(f"{key}: {_text(value)}" for key, value in rest.items())
    return StepRow(values)


def rows_from_steps(steps: Any) -> list[StepRow]:
    items = steps if isinstance(steps, list) else []
    return [row_from_step(step) for step in items if isinstance(step, Mapping)]


def _scalar(text: str) -> Any:
    """A value of an "other" line as YAML reads it (true, 3, text), never anything bigger."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, str | int | float | bool) else text


def step_from_row(row: StepRow) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The flat step a row describes, and what in the row cannot become one (by column).

    Empty columns are left out, so the validator reports what is missing, not empty text.
    """
    values = {column: text.strip() for column, text in row.values.items()}
    step: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    if values["action"]:
        step["action"] = values["action"]
    if values["find"]:
        step[values["find"]] = values["locator"]
    elif values["locator"]:
        problems["find"] = [str(_("say how to find this element"))]
    if values["value"]:
        step[VALUE_KEY.get(values["action"], "value")] = values["value"]
    for column in ("name", "description", "timeout"):
        if values[column]:
            step[column] = values[column]
    for line in row.values["other"].splitlines():
        key, sep, text = line.partition(":")
        if not line.strip():
            continue
        if not sep or not key.strip():
            message = _("“%(line)s” is not key: value") % {"line": line.strip()[:100]}
            problems.setdefault("other", []).append(str(message))
            continue
        step[key.strip()] = _scalar(text.strip())
    return step, problems


def rows_from_post(data: Mapping[str, Any]) -> list[StepRow]:
    """The rows a browser posted (``steps-count`` of them, at most ``MAX_ROWS``)."""
    try:
        count = min(int(str(data.get("steps-count", "0"))), MAX_ROWS)
    except ValueError:
        count = 0
    return [
        StepRow({column: str(data.get(f"steps-{row}-{column}", "")) for column in COLUMNS})
        for row in range(max(count, 0))
    ]


def rearranged(rows: list[StepRow], op: str) -> tuple[list[StepRow], int]:
    """The rows after one editing button, and how many blank rows to offer below them."""
    name, _sep, number = op.partition("-")
    index = int(number) if number.isdigit() else -1
    rows = list(rows)
    if name == "remove" and 0 <= index < len(rows):
        del rows[index]
    elif name == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif name == "down" and 0 <= index < len(rows) - 1:
        rows[index], rows[index + 1] = rows[index + 1], rows[index]
    return rows, (EMPTY_ROWS + ADD_ROWS if name == "add" else EMPTY_ROWS)


def padded(rows: list[StepRow], blanks: int = EMPTY_ROWS) -> list[StepRow]:
    """The rows without blank ones at the end, then ``blanks`` blank rows (up to MAX_ROWS)."""
    kept = list(rows)
    while kept and kept[-1].blank:
        kept.pop()
    room = max(MAX_ROWS - len(kept), 0)
    return kept + [blank_row() for _ in range(min(blanks, room))]


def steps_of(rows: Sequence[StepRow]) -> tuple[list[dict[str, Any]], list[int]]:
    """The steps of the non-blank rows, and which row each step came from."""
    steps: list[dict[str, Any]] = []
    origin: list[int] = []
    for index, row in enumerate(rows):
        if not row.blank:
            step, _problems = step_from_row(row)
            steps.append(step)
            origin.append(index)
    return steps, origin


def column_of(key: str, action: str) -> str:
    """The column that holds a step's field (``other`` for what has no column of its own)."""
    if key == "action":
        return "action"
    if key in LOCATOR_KEYS:
        return "locator"
    if key in ("name", "description", "timeout"):
        return key
    if key == VALUE_KEY.get(action, "value"):
        return "value"
    return "other"
