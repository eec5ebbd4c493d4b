"""Steps from a recording made with ``playwright codegen --target python`` (or python-pytest).

The recording is *read*, never run: Python's ``ast`` parses it and only a plain subset is
understood, each call turned into a step (DESIGN rule 14: nothing a tenant sends runs as code)::

    page.goto("https://shop.example/")                   → goto
    page.get_by_role("button", name="Pay").click()        → click (role + name)
    page.get_by_label("Card number").fill("4242…")        → fill
    page.get_by_label("Country").select_option("PL")      → select
    page.get_by_label("I accept").check() / .uncheck()    → check (checked: false)
    page.locator("#search").press("Enter")                → press
    page.keyboard.press("Enter")                          → press (no element)
    expect(page.get_by_text("Thanks")).to_be_visible()    → expect_visible
    expect(page.locator("h1")).to_contain_text("Thank")   → expect_text (to_have_text too)
    expect(page).to_have_url("…") / to_have_title("…")    → expect_url / expect_title

Locators: get_by_role, get_by_label, get_by_text, get_by_test_id, get_by_placeholder (as CSS)
and locator(css). Codegen's own lines (imports of playwright and re, launching the browser,
``context.close()``, ``with sync_playwright()``) are skipped. Anything else is an error naming
its line; arguments must be plain text, numbers or true/false.
"""

from __future__ import annotations

import ast
from typing import Any

from django.utils.translation import gettext as _
from pydantic import ValidationError

from monitoring.browser.steps import Step
from sitecare.lib.validation_messages import error_message

ALLOWED_IMPORTS = frozenset({"re", "playwright.sync_api", "playwright", "pytest"})
# Codegen's set-up and tear-down: calls of these names on anything are skipped.
BOILERPLATE = frozenset({"launch", "new_context", "new_page", "close", "run", "sync_playwright"})
SIMPLE_ACTIONS = {"click": "click", "check": "check", "uncheck": "check"}
VALUE_ACTIONS = {"fill": "fill", "select_option": "select", "press": "press"}
EXPECTATIONS = {"to_be_visible": "expect_visible"}
TEXT_EXPECTATIONS = {"to_contain_text": "expect_text", "to_have_text": "expect_text"}
PAGE_EXPECTATIONS = {
    "to_have_url": ("expect_url", "url"),
    "to_have_title": ("expect_title", "title"),
}


class RecordingError(ValueError):
    """A recording this importer cannot turn into steps; the message names the line."""


def _fail(node: ast.AST | None, problem: str) -> RecordingError:
    line = getattr(node, "lineno", 0)
    return RecordingError(_("line %(line)d: %(problem)s") % {"line": line, "problem": problem})


def steps_from_recording(text: str) -> list[dict[str, Any]]:
    """The steps of a codegen recording (``RecordingError`` naming the first line not understood).

    1. Parse the text with ``ast`` (a syntax error names its line); nothing is executed.
    2. Walk the module: skip codegen's imports and boilerplate, descend into its functions and
       ``with`` blocks, turn each call on the page into a step.
    3. Validate each step as a monitor's would be.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise RecordingError(
            _("line %(line)d: not valid Python: %(error)s")
            % {"line": exc.lineno or 0, "error": exc.msg}
        ) from None
    steps: list[tuple[ast.AST, dict[str, Any]]] = []
    _walk(tree.body, steps)
    if not steps:
        raise RecordingError(_("the recording has no steps (no page.goto, click, fill…)"))
    result = []
    for node, step in _without_focus_clicks(steps):
        try:
            Step.model_validate(step)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            problem = f"{where}: {error_message(first)}" if where else error_message(first)
            raise _fail(node, problem) from None
        result.append(step)
    return result


def _walk(body: list[ast.stmt], steps: list[tuple[ast.AST, dict[str, Any]]]) -> None:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            _check_import(node)
        elif isinstance(node, ast.FunctionDef) or _is_boilerplate_with(node):
            _walk(node.body, steps)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Assign) and _is_boilerplate(node.value):
            continue
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if not _is_boilerplate(node.value):
                steps.append((node, _step_of(node.value)))
        else:
            raise _fail(node, _("not supported: %(code)s") % {"code": _code(node)})


def _is_boilerplate_with(node: ast.stmt) -> bool:
    """``with sync_playwright() as playwright:``"""
    return isinstance(node, ast.With) and all(_is_boilerplate(i.context_expr) for i in node.items)


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    names = (
        [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
    )
    for name in names:
        if name not in ALLOWED_IMPORTS:
            raise _fail(
                node, _("only Playwright's imports are allowed, not %(name)s") % {"name": name}
            )


def _is_boilerplate(node: ast.AST) -> bool:
    """``browser = playwright.chromium.launch()``, ``context.close()``, ``run(playwright)``…"""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in BOILERPLATE:
        return False
    # ``page.close()`` is boilerplate too, but a locator's method named like one is not.
    return not isinstance(func, ast.Attribute) or not _is_locator(func.value)


def _code(node: ast.AST) -> str:
    return ast.unparse(node).splitlines()[0][:120]


def _is_locator(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith(("get_by_", "locator"))
    )


def _constant(node: ast.AST, kinds: tuple[type, ...] = (str,)) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, kinds):
        return node.value
    raise _fail(node, _("only plain text values are supported: %(code)s") % {"code": _code(node)})


def _arguments(
    call: ast.Call, positional: int, keywords: set[str]
) -> tuple[list[Any], dict[str, Any]]:
    """A call's plain arguments: exactly ``positional`` of them, and of the ``keywords``."""
    if len(call.args) != positional:
        raise _fail(call, _("unexpected arguments: %(code)s") % {"code": _code(call)})
    args = [_constant(arg, (str, int)) for arg in call.args]
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg not in keywords:
            raise _fail(call, _("unsupported option %(name)s") % {"name": keyword.arg or "**"})
        kwargs[keyword.arg] = _constant(keyword.value, (str, int, float, bool))
    return args, kwargs


def _is_page(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id.startswith("page")


def _locator(node: ast.AST) -> dict[str, Any]:
    """A locator call on the page as the step's locator keys."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        raise _fail(node, _("not a locator: %(code)s") % {"code": _code(node)})
    if not _is_page(node.func.value):
        raise _fail(
            node, _("only locators on the page are supported: %(code)s") % {"code": _code(node)}
        )
    method = node.func.attr
    if method == "get_by_role":
        (role,), kwargs = _arguments(node, 1, {"name", "exact"})
        return {"role": role, **kwargs}
    if method in ("get_by_label", "get_by_text"):
        (text,), kwargs = _arguments(node, 1, {"exact"})
        return {method.removeprefix("get_by_"): text, **kwargs}
    if method == "get_by_test_id":
        (test_id,), _kwargs = _arguments(node, 1, set())
        return {"test_id": test_id}
    if method == "get_by_placeholder":
        (text,), kwargs = _arguments(node, 1, {"exact"})
        quoted = str(text).replace("\\", "\\\\").replace('"', '\\"')
        return {
            "css": f'[placeholder="{quoted}"]'
            if kwargs.get("exact")
            else f'[placeholder*="{quoted}" i]'
        }
    if method == "locator":
        (css,), _kwargs = _arguments(node, 1, set())
        return {"css": css}
    raise _fail(node, _("unsupported locator %(name)s") % {"name": method})


def _timeout(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Playwright's ``timeout=`` in milliseconds as the step's seconds."""
    return {"timeout": kwargs["timeout"] / 1000} if "timeout" in kwargs else {}


def _step_of(call: ast.Call) -> dict[str, Any]:
    func = call.func
    if not isinstance(func, ast.Attribute):
        raise _fail(call, _("not supported: %(code)s") % {"code": _code(call)})
    target, method = func.value, func.attr
    if _is_expect(target):
        return _expectation(call, target, method)
    if _is_page(target) and method == "goto":
        (url,), kwargs = _arguments(call, 1, {"timeout", "wait_until"})
        return {"action": "goto", "url": url, **_timeout(kwargs)}
    if _is_keyboard(target) and method == "press":
        (key,), _kwargs = _arguments(call, 1, set())
        return {"action": "press", "key": key}
    if _is_locator(target):
        locator = _locator(target)
        if method in SIMPLE_ACTIONS:
            _args, kwargs = _arguments(call, 0, {"timeout", "force"})
            step = {"action": SIMPLE_ACTIONS[method], **locator, **_timeout(kwargs)}
            return {**step, "checked": False} if method == "uncheck" else step
        if method in VALUE_ACTIONS:
            (value,), kwargs = _arguments(call, 1, {"timeout"})
            key = "key" if method == "press" else "value"
            step = {"action": VALUE_ACTIONS[method], **locator, key: str(value)}
            return {**step, **_timeout(kwargs)}
    raise _fail(call, _("not supported: %(code)s") % {"code": _code(call)})


def _is_keyboard(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and _is_page(node.value) and node.attr == "keyboard"


def _is_expect(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "expect"
        and len(node.args) == 1
    )


def _expectation(call: ast.Call, target: ast.AST, method: str) -> dict[str, Any]:
    assert isinstance(target, ast.Call)
    subject = target.args[0]
    if _is_page(subject) and method in PAGE_EXPECTATIONS:
        action, key = PAGE_EXPECTATIONS[method]
        (text,), kwargs = _arguments(call, 1, {"timeout"})
        return {"action": action, key: text, **_timeout(kwargs)}
    if _is_locator(subject) and method in EXPECTATIONS:
        _args, kwargs = _arguments(call, 0, {"timeout"})
        return {"action": EXPECTATIONS[method], **_locator(subject), **_timeout(kwargs)}
    if _is_locator(subject) and method in TEXT_EXPECTATIONS:
        (text,), kwargs = _arguments(call, 1, {"timeout", "use_inner_text"})
        kwargs.pop("use_inner_text", None)
        step = {"action": "expect_text", **_locator(subject), "contains": text}
        return {**step, **_timeout(kwargs)}
    raise _fail(call, _("not supported: %(code)s") % {"code": _code(call)})


def _without_focus_clicks(
    steps: list[tuple[ast.AST, dict[str, Any]]],
) -> list[tuple[ast.AST, dict[str, Any]]]:
    """Codegen clicks a field before filling it; the fill alone does both."""
    kept = []
    for position, (node, step) in enumerate(steps):
        following = steps[position + 1][1] if position + 1 < len(steps) else {}
        same_field = {k: v for k, v in step.items() if k != "action"} == {
            k: v for k, v in following.items() if k not in ("action", "value")
        }
        if step["action"] == "click" and following.get("action") == "fill" and same_field:
            continue
        kept.append((node, step))
    return kept
