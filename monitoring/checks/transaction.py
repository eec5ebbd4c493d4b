"""Transaction check: a declarative list of browser steps (can a customer still pay?).

The options (``Monitor.config``) are data, never code (DESIGN rule 14): steps from a fixed set
of actions (``monitoring.browser.steps``), variables, and ``secrets`` (test card numbers,
passwords: ``Monitor.config`` is encrypted at rest and ``secrets`` is in ``SECRET_FIELDS``, so
the API, admin, exports and forms show only their names). The run itself is
``monitoring.browser.transaction_check`` (which loads Playwright, so only the processes that
run browser checks import it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from django.utils.translation import gettext_noop
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitoring.browser.steps import (
    MAX_STEPS,
    NAME,
    Step,
    field_error,
    raise_errors,
    reference_errors,
)
from monitoring.checks.browser_kind import (
    block_hosts_field,
    host_patterns,
    normalize_target,
    target_host,
)
from sitecare.lib.messages import deferred as _

__all__ = ["Options", "check_budget_s", "normalize_target", "target_host", "time_limit"]

MAX_VARIABLES = 50
# Besides its steps, a run needs time to start a context, take a screenshot and save a trace.
RUN_OVERHEAD_S = 15.0
MAX_BUDGET_S = 600.0


class Options(BaseModel):
    """Kind-specific settings of a transaction monitor (``Monitor.url`` is where it starts)."""

    model_config = ConfigDict(extra="forbid")
    # Never shown back: each secret's name stays visible, its value is masked.
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"secrets"})

    # Descriptions are the form's help (as the speed kind's): the options read without them.
    device: Literal["desktop", "mobile"] = Field(
        default="desktop",
        description=gettext_noop("desktop: 1366 px wide; mobile: 390 px wide, with touch"),
    )
    step_timeout: float = Field(
        default=10.0,
        ge=1,
        le=120,
        description=gettext_noop("1 to 120; how long each step may take unless it says otherwise"),
    )
    block_hosts: list[str] = block_hosts_field()
    variables: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    # Not "required" in the schema: the API's flat monitor body merges every kind's fields.
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS, validate_default=True)

    @field_validator("steps")
    @classmethod
    def _at_least_one(cls, value: list[Step]) -> list[Step]:
        if not value:
            raise ValueError(_("a transaction needs at least one step"))
        return value

    @field_validator("block_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str]) -> list[str]:
        return host_patterns(value)

    @field_validator("variables", "secrets")
    @classmethod
    def _names_and_values(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_VARIABLES:
            raise ValueError(_("at most %(n)d names") % {"n": MAX_VARIABLES})
        for name, text in value.items():
            if not NAME.fullmatch(name):
                raise ValueError(
                    _("%(name)s is not a variable name: letters, digits and _, e.g. CARD")
                    % {"name": name[:64]}
                )
            if len(text) > 2000:
                raise ValueError(_("the value of %(name)s is too long") % {"name": name})
        return value

    @model_validator(mode="after")
    def _references(self) -> Options:
        errors = reference_errors(self.steps, self.variables, self.secrets)
        for name in sorted(self.variables.keys() & self.secrets.keys()):
            message = _("%(name)s is both a variable and a secret") % {"name": name}
            errors.append(field_error(("secrets",), message, name))
        raise_errors("options", errors)
        return self

    def timeout_of(self, step: Step) -> float:
        return step.timeout if step.timeout is not None else self.step_timeout


def check_budget_s(options: Options) -> float:
    """The whole run's time limit: every step's timeout, the run's overhead, capped."""
    total = sum(options.timeout_of(step) for step in options.steps) + RUN_OVERHEAD_S
    return min(total, MAX_BUDGET_S)


def time_limit(config: Mapping[str, Any], timeout_s: float) -> float:
    """The longest one run of these options may take (a config that no longer validates
    fails at once, so the smallest budget serves it)."""
    try:
        return check_budget_s(Options.model_validate(dict(config)))
    except ValidationError:
        return RUN_OVERHEAD_S
