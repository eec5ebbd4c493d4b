"""The steps of a transaction: one flat mapping each, validated with the step and field named.

A step is ``{"action": "click", "role": "button", "name": "Pay"}``: its action, at most one
locator (``role`` + ``name``/``exact``, ``label``, ``text``, ``test_id``, ``css``) and the
action's own fields. Which fields an action takes is one table (``RULES``); a field it does not
take, or one it misses, is an error on that field (``steps.3.value``), worded in the reader's
language like every other monitor error (``sitecare.lib.validation_messages``).

``${NAME}`` in url/value/contains/title/key is replaced when the step runs, from the monitor's
variables, its secrets and the values earlier ``extract`` steps took (``references``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

Action = Literal[
    "goto",
    "click",
    "fill",
    "select",
    "check",
    "press",
    "wait_for",
    "expect_text",
    "expect_visible",
    "expect_url",
    "expect_title",
    "expect_status",
    "extract",
    "screenshot",
]
ACTIONS: tuple[str, ...] = get_args(Action)
LOCATOR_KEYS = ("role", "label", "text", "test_id", "css")
# Fields whose text may hold ${NAME} references.
TEMPLATED = ("url", "value", "contains", "title", "key")
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
NAME = re.compile(NAME_PATTERN)
REFERENCE = re.compile(r"\$\{([^}]*)\}")
MAX_STEPS = 50
# ARIA roles Playwright's get_by_role knows.
_ROLE_NAMES = (
    "alert alertdialog application article banner blockquote button caption cell checkbox "
    "code columnheader combobox complementary contentinfo definition deletion dialog "
    "directory document emphasis feed figure form generic grid gridcell group heading img "
    "insertion link list listbox listitem log main marquee math menu menubar menuitem "
    "menuitemcheckbox menuitemradio meter navigation none note option paragraph presentation "
    "progressbar radio radiogroup region row rowgroup rowheader scrollbar search searchbox "
    "separator slider spinbutton status strong subscript superscript switch tab table "
    "tablist tabpanel term textbox time timer toolbar tooltip tree treegrid treeitem"
)
ROLES = frozenset(_ROLE_NAMES.split())


@dataclass(frozen=True)
class Rule:
    """What one action takes: fields it needs, fields it may have, and its element."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    locator: Literal["required", "optional", "none"] = "none"


def _rule(
    required: Iterable[str] = (), optional: Iterable[str] = (), locator: str = "none"
) -> Rule:
    return Rule(frozenset(required), frozenset(optional), locator)  # type: ignore[arg-type]


RULES: dict[str, Rule] = {
    "goto": _rule(["url"]),
    "click": _rule(locator="required"),
    "fill": _rule(["value"], locator="required"),
    "select": _rule(["value"], locator="required"),
    "check": _rule(optional=["checked"], locator="required"),
    "press": _rule(["key"], locator="optional"),
    # Exactly one of: an element, an address (url) or network_idle.
    "wait_for": _rule(optional=["url", "network_idle"], locator="optional"),
    "expect_text": _rule(["contains"], locator="optional"),
    "expect_visible": _rule(locator="required"),
    "expect_url": _rule(["url"]),
    "expect_title": _rule(["title"]),
    "expect_status": _rule(["status"]),
    "extract": _rule(["into"], locator="required"),
    "screenshot": _rule(),
}
# Fields every step may have, and the locator's own qualifiers.
COMMON = frozenset({"action", "description", "timeout"})
QUALIFIERS = frozenset({"name", "exact"})


def field_error(loc: tuple[str | int, ...], message: str, value: Any) -> InitErrorDetails:
    """One error at ``loc`` (relative to the model validated), read as a validator's own
    ``ValueError`` is (``sitecare.lib.validation_messages``), wherever it is re-raised."""
    return InitErrorDetails(type="value_error", loc=loc, input=value, ctx={"error": message})


def raise_errors(title: str, errors: list[InitErrorDetails]) -> None:
    # A ValidationError raised in a validator keeps its locations (prefixed with the step's).
    if errors:
        raise ValidationError.from_exception_data(title, errors)


class Step(BaseModel):
    """One step of a transaction (see the module's docstring and ``RULES``)."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    description: str = Field(default="", max_length=200)
    timeout: float | None = Field(default=None, gt=0, le=120)
    role: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=500)
    exact: bool | None = None
    label: str | None = Field(default=None, min_length=1, max_length=500)
    text: str | None = Field(default=None, min_length=1, max_length=500)
    test_id: str | None = Field(default=None, min_length=1, max_length=200)
    css: str | None = Field(default=None, min_length=1, max_length=1000)
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    value: str | None = Field(default=None, max_length=2000)
    checked: bool | None = None
    key: str | None = Field(default=None, min_length=1, max_length=100)
    network_idle: bool | None = None
    contains: str | None = Field(default=None, min_length=1, max_length=2000)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    status: int | None = Field(default=None, ge=100, le=599)
    into: str | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        if value is not None and value not in ROLES:
            raise ValueError(_("not an ARIA role (e.g. button, link, textbox, checkbox)"))
        return value

    @field_validator("css")
    @classmethod
    def _css_only(cls, value: str | None) -> str | None:
        # Playwright splits a selector on ">>" (even after "css="): the rest would be read by
        # another engine (xpath=, internal:…, _react=), not as the CSS the contract promises.
        if value is not None and ">>" in value:
            raise ValueError(_("a CSS selector only: “>>” would chain another selector engine"))
        return value

    @field_validator("into")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not NAME.fullmatch(value):
            raise ValueError(_("a variable name: letters, digits and _, e.g. ORDER"))
        return value

    @model_validator(mode="after")
    def _fields_of_the_action(self) -> Step:
        raise_errors("step", list(self._field_errors()))
        return self

    def _field_errors(self) -> Iterator[InitErrorDetails]:
        rule = RULES[self.action]
        given = [key for key in type(self).model_fields if key in self.model_fields_set]
        given = [key for key in given if getattr(self, key) is not None]
        taken = COMMON | rule.required | rule.optional
        if rule.locator != "none":
            taken |= set(LOCATOR_KEYS) | QUALIFIERS
        action = self.action
        for key in given:
            if key not in taken:
                message = _("a %(action)s step does not take this field") % {"action": action}
                yield field_error((key,), message, getattr(self, key))
        for key in sorted(rule.required - set(given)):
            message = _("a %(action)s step needs this field") % {"action": action}
            yield field_error((key,), message, None)
        if self.action == "goto" and not _web_address(self.url or ""):
            message = _("an http(s) address or a path like /cart")
            yield field_error(("url",), message, self.url)
        if rule.locator != "none":
            yield from self._locator_errors()

    def _locator_errors(self) -> Iterator[InitErrorDetails]:
        locators = [key for key in LOCATOR_KEYS if getattr(self, key) is not None]
        for extra in locators[1:]:
            message = _("one way to find the element: %(first)s or %(second)s, not both") % {
                "first": locators[0],
                "second": extra,
            }
            yield field_error((extra,), message, getattr(self, extra))
        if self.name is not None and self.role is None:
            message = _("a name goes with a role (role: button, name: Pay)")
            yield field_error(("name",), message, self.name)
        if self.exact is not None and not ({"role", "label", "text"} & set(locators)):
            message = _("exact goes with a role, label or text")
            yield field_error(("exact",), message, self.exact)
        waits = locators[:1] + [k for k in ("url", "network_idle") if getattr(self, k)]
        if self.action == "wait_for":
            if self.network_idle is False:
                message = _("set network_idle to true, or leave it out")
                yield field_error(("network_idle",), message, False)
            if len(waits) > 1:
                message = _("wait for one thing: an element, url or network_idle")
                yield field_error((waits[1],), message, None)
            elif not waits:
                message = _(
                    "a wait_for step needs an element (role, label, text, test_id, css), "
                    "url or network_idle: true"
                )
                yield field_error((), message, None)
        elif not locators and RULES[self.action].locator == "required":
            message = _("a %(action)s step needs an element: role, label, text, test_id or css") % {
                "action": self.action
            }
            yield field_error((), message, None)

    @property
    def locator_key(self) -> str | None:
        """Which locator the step uses (None: the page)."""
        return next((key for key in LOCATOR_KEYS if getattr(self, key) is not None), None)

    def references(self) -> Iterator[tuple[str, str]]:
        """Each ``${NAME}`` in the step's templated fields: (field, name as written)."""
        for key in TEMPLATED:
            text = getattr(self, key)
            if isinstance(text, str):
                for match in REFERENCE.finditer(text):
                    yield key, match.group(1)


def reference_errors(
    steps: list[Step], variables: Iterable[str], secrets: Iterable[str]
) -> list[InitErrorDetails]:
    """Each ``${NAME}`` that names nothing known when its step runs (variables, secrets and
    earlier extracts), and each extract into a name already taken; locations ``steps.N.field``."""
    known = set(variables) | set(secrets)
    errors: list[InitErrorDetails] = []
    for index, step in enumerate(steps):
        for key, name in step.references():
            if not NAME.fullmatch(name):
                message = _("“${%(name)s}” is not a variable name") % {"name": name[:50]}
                errors.append(field_error(("steps", index, key), message, name))
            elif name not in known:
                message = _("unknown variable ${%(name)s}") % {"name": name}
                errors.append(field_error(("steps", index, key), message, name))
        if step.into is not None:
            if step.into in set(variables) | set(secrets):
                message = _("%(name)s is already a variable or secret") % {"name": step.into}
                errors.append(field_error(("steps", index, "into"), message, step.into))
            known.add(step.into)
    return errors


def _web_address(url: str) -> bool:
    """A goto's address: a path or http(s) (one starting with ${…} is judged when it runs)."""
    return url.startswith("${") or urlsplit(url).scheme in ("", "http", "https")


def substitute(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``${NAME}`` replaced (validated before: every name is known)."""
    return REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _quoted(text: str) -> str:
    return f"“{text}”"


def element_summary(step: Step) -> str:
    """The step's element as the results show it: ``button “Pay”``, ``“Card number”``…"""
    if step.role is not None:
        return f"{step.role} {_quoted(step.name)}" if step.name else step.role
    if step.label is not None:
        return _quoted(step.label)
    if step.text is not None:
        return f"text {_quoted(step.text)}"
    if step.test_id is not None:
        return f"test_id {step.test_id}"
    if step.css is not None:
        return step.css
    return ""


def summary(step: Step) -> str:
    """One line of what a step does, as written (``${CARD}`` stays a name: no secret shown)."""
    parts = [step.action, element_summary(step)]
    extra = {
        "goto": step.url,
        "fill": _quoted(step.value or ""),
        "select": _quoted(step.value or ""),
        "check": "off" if step.checked is False else "",
        "press": step.key,
        "wait_for": step.url or ("network_idle" if step.network_idle else ""),
        "expect_text": _quoted(step.contains or ""),
        "expect_url": step.url,
        "expect_title": _quoted(step.title or ""),
        "expect_status": str(step.status),
        "extract": f"→ {step.into}",
        "screenshot": step.description,
    }.get(step.action)
    parts.append(extra or "")
    return " ".join(part for part in parts if part)[:300]
