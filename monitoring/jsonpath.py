"""JSON assertions of HTTP checks: ``$.status == "ok"``, ``$.items[0].price > 10``.

A deliberately small language, parsed by hand (no ``eval``, no library that can reach Python
objects): a path, an operator, a JSON literal.

- path: ``$`` then any of ``.name``, ``[0]`` (also ``[-1]``), ``["any key"]``;
- operator: ``==``, ``!=``, ``>``, ``>=``, ``<``, ``<=``;
- value: a JSON literal: ``"text"``, a number, ``true``, ``false`` or ``null``.

Equality is by JSON type: ``true`` is not ``1``, ``1`` equals ``1.0``. Ordering compares two
numbers or two strings. A path that leads nowhere makes the assertion fail (``!=`` included:
a missing field is not evidence of anything).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from sitecare.lib.messages import deferred as _

MAX_EXPRESSION_LENGTH = 500
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_INDEX = re.compile(r"-?\d+")
Step = str | int


class _Missing:
    """The value at a path that leads nowhere."""


MISSING = _Missing()


@dataclass(frozen=True)
class Assertion:
    """One parsed assertion: where to look, how to compare, with what."""

    source: str
    path: tuple[Step, ...]
    operator: str
    expected: Any

    def failure(self, document: Any) -> str | None:
        """None when the assertion holds for this document, else a message saying why not."""
        actual = resolve(document, self.path)
        if isinstance(actual, _Missing):
            return _("%(expression)s: the value is missing.") % {"expression": self.source}
        if compare(actual, self.operator, self.expected):
            return None
        return _("%(expression)s: the value is %(actual)s.") % {
            "expression": self.source,
            "actual": json.dumps(actual, ensure_ascii=False)[:100],
        }


@functools.lru_cache(maxsize=1024)
def parse(expression: str) -> Assertion:
    """Parse an assertion; ValueError with a message saying what is wrong and where.

    1. Read the path from ``$`` step by step.
    2. Read the operator.
    3. Read the rest as one JSON literal (a scalar).
    """
    text = expression.strip()
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError(
            _("an assertion is at most %(n)d characters") % {"n": MAX_EXPRESSION_LENGTH}
        )
    if not text.startswith("$"):
        raise ValueError(_("%(expression)s must start with $") % {"expression": _quoted(text)})
    path, position = _parse_path(text, 1)
    operator, position = _parse_operator(text, position)
    expected = _parse_literal(text, position)
    return Assertion(text, tuple(path), operator, expected)


def _parse_path(text: str, position: int) -> tuple[list[Step], int]:
    """Steps of the path from ``position``; returns them and where the path ends."""
    steps: list[Step] = []
    while position < len(text) and text[position] in ".[":
        if text[position] == ".":
            match = _NAME.match(text, position + 1)
            if match is None:
                raise _syntax_error(text, position + 1, _("a field name"))
            steps.append(match.group())
            position = match.end()
        else:
            step, position = _parse_bracket(text, position + 1)
            steps.append(step)
    return steps, position


def _parse_bracket(text: str, position: int) -> tuple[Step, int]:
    """An index ``[0]`` or a quoted key ``["a b"]``; ``position`` is just after ``[``."""
    match = _INDEX.match(text, position)
    if match is not None:
        step: Step = int(match.group())
        end = match.end()
    elif text.startswith('"', position):
        try:
            step, end = json.JSONDecoder().raw_decode(text, position)
        except ValueError:
            raise _syntax_error(text, position, _("a quoted key")) from None
    else:
        raise _syntax_error(text, position, _("an index or a quoted key"))
    if not text.startswith("]", end):
        raise _syntax_error(text, end, "]")
    return step, end + 1


def _parse_operator(text: str, position: int) -> tuple[str, int]:
    rest = text[position:].lstrip()
    for operator in OPERATORS:
        if rest.startswith(operator):
            return operator, len(text) - len(rest) + len(operator)
    raise _syntax_error(
        text, len(text) - len(rest), _("one of %(ops)s") % {"ops": " ".join(OPERATORS)}
    )


def _parse_literal(text: str, position: int) -> Any:
    rest = text[position:].strip()
    try:
        value = json.loads(rest, parse_constant=_refuse_constant)
    except ValueError:
        value = MISSING
    if isinstance(value, _Missing | dict | list):
        raise ValueError(
            _(
                '%(value)s is not a value: use "text" in double quotes, a number, '
                "true, false or null"
            )
            % {"value": _quoted(rest or _("nothing"))}
        )
    return value


def _refuse_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's parser would accept them.
    raise ValueError(name)


def _syntax_error(text: str, position: int, wanted: str) -> ValueError:
    return ValueError(
        _("%(expression)s: expected %(wanted)s at character %(position)d")
        % {"expression": _quoted(text), "wanted": wanted, "position": position + 1}
    )


def _quoted(text: str) -> str:
    # Straight quotes: typographic ones differ by language (“…” in English, „…” in Polish).
    return f'"{text[:100]}"'


def resolve(document: Any, path: tuple[Step, ...]) -> Any:
    """The value at a path, or MISSING when a step leads nowhere."""
    value = document
    for step in path:
        if isinstance(step, int) and isinstance(value, list):
            if not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return MISSING
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def compare(actual: Any, operator: str, expected: Any) -> bool:
    """Compare by JSON type: equality needs the same type, ordering two numbers or strings."""
    same_type = _json_type(actual) == _json_type(expected)
    if operator == "==":
        return same_type and actual == expected
    if operator == "!=":
        return not (same_type and actual == expected)
    if not same_type or _json_type(actual) not in ("number", "str"):
        return False
    if operator == ">":
        return bool(actual > expected)
    if operator == ">=":
        return bool(actual >= expected)
    if operator == "<":
        return bool(actual < expected)
    return bool(actual <= expected)
