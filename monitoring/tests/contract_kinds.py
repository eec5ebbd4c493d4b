"""Stand-ins for the browser kinds' options, written from the contract of issue 12
(``notes/contracts.md``), for tests that must run before the kinds' own options exist.

``use_contract_kinds`` swaps a stand-in into the registry only while the real ``Options`` of a
kind is still the empty skeleton; once the real one is there (merged), it is left alone, so the
same tests then run against the real validation.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import ClassVar, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from front.kind_forms import monitor_form_class
from monitoring import checks
from monitoring.models import CheckKind

LOCATORS = ("role", "label", "text", "test_id", "css")
VALUE_OF = {
    "goto": "url",
    "fill": "value",
    "select": "value",
    "press": "key",
    "expect_text": "contains",
    "expect_url": "url",
    "expect_title": "title",
    "expect_status": "status",
    "extract": "into",
}
NEEDS_ELEMENT = {"click", "fill", "select", "check", "expect_visible", "extract"}
REFERENCE = re.compile(r"\$\{([^}]*)\}")


class ContractStep(BaseModel):
    """One step as the contract writes it: a flat mapping with an ``action``."""

    model_config = ConfigDict(extra="forbid")

    action: Literal[
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
    description: str = ""
    timeout: float | None = Field(default=None, gt=0, le=120)
    role: str | None = None
    name: str | None = None
    exact: bool | None = None
    label: str | None = None
    text: str | None = None
    test_id: str | None = None
    css: str | None = None
    url: str | None = None
    value: str | None = None
    checked: bool | None = None
    key: str | None = None
    network_idle: bool | None = None
    contains: str | None = None
    title: str | None = None
    status: int | None = Field(default=None, ge=100, le=599)
    into: str | None = None

    @model_validator(mode="after")
    def _action_fields(self) -> ContractStep:
        errors: list[InitErrorDetails] = []
        needed = VALUE_OF.get(self.action)
        if needed and getattr(self, needed) is None:
            errors.append(_error((needed,), "a step of this action needs this field"))
        if self.action in NEEDS_ELEMENT and not any(getattr(self, k) for k in LOCATORS):
            errors.append(_error((), "this step needs an element: role, label, text, test_id"))
        if errors:
            raise ValidationError.from_exception_data("step", errors)
        return self


def _error(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("contract", message),
        loc=loc,
        input=None,
    )


class TransactionOptions(BaseModel):
    """The transaction options of the contract."""

    model_config = ConfigDict(extra="forbid")
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"secrets"})

    device: Literal["desktop", "mobile"] = "desktop"
    step_timeout: float = Field(default=10.0, ge=1, le=120)
    block_hosts: list[str] = Field(default_factory=list)
    variables: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    steps: list[ContractStep] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _references(self) -> TransactionOptions:
        known = set(self.variables) | set(self.secrets)
        errors: list[InitErrorDetails] = []
        for index, step in enumerate(self.steps):
            for key in ("url", "value", "contains", "title", "key"):
                for name in REFERENCE.findall(getattr(step, key) or ""):
                    if name not in known:
                        message = f"unknown variable ${{{name}}}"
                        errors.append(_error(("steps", index, key), message))
            if step.into:
                known.add(step.into)
        if errors:
            raise ValidationError.from_exception_data("options", errors)
        return self


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lcp_ms: int | None = Field(default=None, ge=1)
    cls: float | None = Field(default=None, ge=0)
    tbt_ms: int | None = Field(default=None, ge=0)
    fcp_ms: int | None = Field(default=None, ge=1)
    ttfb_ms: int | None = Field(default=None, ge=1)
    bytes: int | None = Field(default=None, ge=1)
    requests: int | None = Field(default=None, ge=1)


class SpeedOptions(BaseModel):
    """The speed options the demo uses (profile, runs, budgets), as the speed branch has them."""

    model_config = ConfigDict(extra="forbid")

    profile: Literal["mobile", "desktop"] = "mobile"
    runs: int = Field(default=3, ge=1, le=5)
    budgets: Budgets = Field(default_factory=Budgets)
    block_hosts: list[str] = Field(default_factory=list)


STAND_INS: dict[str, tuple[type[BaseModel], str]] = {
    CheckKind.TRANSACTION: (TransactionOptions, "steps"),
    CheckKind.SPEED: (SpeedOptions, "budgets"),
}


def real_options_ready(kind: str) -> bool:
    """Whether the kind's real options (with the contract's fields) are in the registry."""
    model, field = STAND_INS[kind]
    options = checks.KINDS[kind].options
    return field in options.model_fields and options is not model


def use_contract_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the stand-ins in the registry where the real options are still skeletons."""
    for kind, (model, field) in STAND_INS.items():
        if field in checks.KINDS[kind].options.model_fields:
            continue
        monkeypatch.setitem(checks.KINDS, kind, replace(checks.KINDS[kind], options=model))
        monkeypatch.setitem(checks.OPTIONS, kind, model)
    monitor_form_class.cache_clear()
