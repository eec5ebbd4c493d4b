"""One validation of a monitor's definition, shared by config-as-code, the API and forms.

A monitor is described flat: the common fields below plus the kind's own options
(``monitoring/checks/<kind>.py``), e.g. ``{"name": "Home", "kind": "http", "url": "…",
"interval": 60, "keyword": "Add to cart"}``. Every error names its field. ``critical`` (whether
the monitor counts for the SLA) defaults by kind (``monitoring.models.default_critical``).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from monitoring.checks import KINDS, kind_spec, options_model, secret_fields
from monitoring.models import CheckKind, Monitor, default_critical
from sitecare.lib.names import DisplayName
from sitecare.lib.netpolicy import IPNetwork, refusal_for_host

# Each common field of a definition and the Monitor column that stores it: the one mapping
# that the API, the admin and config as code derive their field names from.
MODEL_FIELD_FOR_KEY = {
    "name": "name",
    "kind": "kind",
    "url": "url",
    "interval": "interval_s",
    "timeout": "timeout_s",
    "confirm_down": "confirm_down",
    "confirm_up": "confirm_up",
    "recheck": "recheck_s",
    "enabled": "enabled",
    "critical": "critical",
}
COMMON_FIELDS = set(MODEL_FIELD_FOR_KEY)
BUILT_IN_ERRORS = frozenset(typing.get_args(ErrorType))
# What a secret option value is shown as (API, admin, apply diffs).
MASK = "***"
# Parts of a secret option that name something rather than prove it: shown in full.
NAMING_KEYS = frozenset({"username"})


class MonitorCommon(BaseModel):
    """The fields every kind shares (seconds for times)."""

    model_config = ConfigDict(extra="forbid")

    name: DisplayName = Field(min_length=1, max_length=200)
    kind: CheckKind = CheckKind.HTTP
    url: str = Field(default="", max_length=2000)
    interval: int = Field(default=60, description=gettext_noop("seconds between checks"))
    timeout: float = Field(default=10.0, gt=0, le=120)
    confirm_down: int = Field(default=3, ge=1, le=20)
    confirm_up: int = Field(default=2, ge=1, le=20)
    recheck: int = Field(
        default=10,
        ge=1,
        le=86_400,
        description=gettext_noop("seconds between re-checks while confirming"),
    )
    enabled: bool = True
    critical: bool | None = Field(
        default=None,
        description=gettext_noop(
            "counts for the SLA (the site is down while a critical monitor is down); "
            "default: true for http, tcp, dns, heartbeat and transaction, false for tls, "
            "domain, seo, content and speed"
        ),
    )

    @field_validator("kind")
    @classmethod
    def _kind_available(cls, value: CheckKind) -> CheckKind:
        if value not in KINDS:
            raise ValueError(
                _("check kind %(kind)s is not available in this version") % {"kind": value.value}
            )
        return value

    @field_validator("url")
    @classmethod
    def _target(cls, value: str, info: ValidationInfo) -> str:
        """Each kind says what it points at: a URL, ``host:port``, a domain name…"""
        kind = info.data.get("kind")
        if kind is None:  # the kind's own error is reported; the target cannot be judged
            return value.strip()
        return kind_spec(kind).normalize_target(value)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: int) -> int:
        minimum = settings.SITECARE_MIN_INTERVAL_SECONDS
        if value < minimum:
            raise ValueError(_("must be at least %(n)d seconds") % {"n": minimum})
        if value > 86_400:
            raise ValueError(_("must be at most 86400 seconds (one day)"))
        return value

    @model_validator(mode="after")
    def _critical_by_kind(self) -> MonitorCommon:
        """A definition that does not say (or says null) takes its kind's default."""
        if self.critical is None:
            self.critical = default_critical(self.kind)
        return self


class MonitorDefinition(BaseModel):
    """A validated monitor: common fields and the kind's options (as stored in ``config``)."""

    common: MonitorCommon
    options: dict[str, Any]

    def model_fields_for(self, existing: Monitor | None = None) -> dict[str, Any]:
        """Keyword arguments for ``Monitor`` (model field names).

        An empty target of a kind that makes its own (a heartbeat's ping token) keeps the
        ``existing`` monitor's, or gets a new one: applying a file twice never changes it.
        """
        values = self.common.model_dump(mode="json")
        new_target = kind_spec(self.common.kind).new_target
        if not values["url"] and new_target is not None:
            same_kind = existing is not None and existing.kind == self.common.kind
            values["url"] = existing.url if same_kind and existing else new_target()
        fields = {attr: values[key] for key, attr in MODEL_FIELD_FOR_KEY.items()}
        return {**fields, "config": self.options}


def _refusal(url: Any, kind: Any, allowlist: Sequence[IPNetwork]) -> str | None:
    """The network policy's refusal of a literal address target, judged even when other fields
    are wrong (so every error of a monitor is reported at once)."""
    if not isinstance(url, str) or not isinstance(kind, str) or kind not in KINDS:
        return None
    try:
        host = kind_spec(kind).target_host(kind_spec(kind).normalize_target(url))
    except ValueError:
        return None
    return refusal_for_host(host, allowlist) if host else None


def _error(field: str, kind: str, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, message.replace("{", "{{").replace("}", "}}")),
        loc=(field,),
        input=value,
    )


def _carried(errors: list[ErrorDetails]) -> list[InitErrorDetails]:
    """Errors of a nested validation, ready to be raised again with the others.

    pydantic rebuilds a built-in error from its type name, but not a kind's own
    (``PydanticCustomError``, e.g. a transaction step's ``unknown_variable``): that one is
    carried as a custom error of the same type and message.
    """
    carried: list[InitErrorDetails] = []
    for error in errors:
        if error["type"] in BUILT_IN_ERRORS:
            carried.append(error)  # type: ignore[arg-type]
            continue
        # No context: pydantic then takes the message as it is (braces and all).
        custom = PydanticCustomError(error["type"], error["msg"])
        carried.append(InitErrorDetails(type=custom, loc=error["loc"], input=error["input"]))
    return carried


def parse_monitor(data: dict[str, Any], allowlist: Sequence[IPNetwork]) -> MonitorDefinition:
    """Validate a flat monitor definition; raise pydantic ``ValidationError`` naming fields.

    1. Split the mapping into common fields and the kind's options.
    2. Validate both (unknown fields are errors of the kind's options model).
    3. Refuse a literal address the network policy denies (field ``url``).
    All errors of one monitor are reported together.
    """
    common_data = {k: v for k, v in data.items() if k in COMMON_FIELDS}
    option_data = {k: v for k, v in data.items() if k not in COMMON_FIELDS}
    errors: list[InitErrorDetails] = []
    common: MonitorCommon | None = None
    try:
        common = MonitorCommon.model_validate(common_data)
    except ValidationError as exc:
        errors.extend(exc.errors())  # type: ignore[arg-type]
    kind = common.kind if common is not None else data.get("kind", CheckKind.HTTP)
    options: dict[str, Any] = {}
    if isinstance(kind, str) and kind in KINDS:
        try:
            model = options_model(kind).model_validate(option_data)
            options = model.model_dump(mode="json", exclude_defaults=True)
        except ValidationError as exc:
            errors.extend(_carried(exc.errors()))
    refusal = _refusal(data.get("url"), kind, allowlist)
    if refusal:
        errors.append(_error("url", "blocked_by_policy", refusal, data.get("url")))
    if common is not None and common.timeout > common.interval:
        message = _("must not exceed the interval (%(n)d s)") % {"n": common.interval}
        errors.append(_error("timeout", "timeout_above_interval", message, common.timeout))
    # The default re-check pace is capped by the engine; only a stated one that is too slow
    # is an error.
    recheck_stated = common is not None and "recheck" in common.model_fields_set
    if common is not None and recheck_stated and common.recheck > common.interval:
        message = _("must not exceed the interval (%(n)d s)") % {"n": common.interval}
        errors.append(_error("recheck", "recheck_above_interval", message, common.recheck))
    if errors:
        raise ValidationError.from_exception_data("monitor", errors)
    assert common is not None
    return MonitorDefinition(common=common, options=options)


def monitor_as_data(monitor: Monitor) -> dict[str, Any]:
    """A stored monitor as a flat definition that ``parse_monitor`` accepts; defaults left out."""
    data: dict[str, Any] = {"name": monitor.name, "kind": monitor.kind, "url": monitor.url}
    defaults = MonitorCommon.model_fields
    for key, attr in MODEL_FIELD_FOR_KEY.items():
        value = getattr(monitor, attr)
        default = default_critical(monitor.kind) if key == "critical" else defaults[key].default
        if key not in data and value != default:
            data[key] = value
    data.update(monitor.config or {})
    return data


def secret_options(kind: str) -> frozenset[str]:
    """The secret option names of a kind; none for a kind this version does not know."""
    return secret_fields(kind) if kind in KINDS else frozenset()


def masked_value(value: Any) -> Any:
    """A secret option as shown: a mapping keeps its keys (header names, the user name)."""
    if isinstance(value, Mapping):
        return {key: item if key in NAMING_KEYS else MASK for key, item in value.items()}
    return MASK


def mask_secrets(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options (or a flat definition) with every secret value masked."""
    secrets = secret_options(kind)
    return {key: masked_value(v) if key in secrets else v for key, v in options.items()}


def _unmasked(sent: Any, stored: Any) -> Any:
    if isinstance(sent, Mapping) and isinstance(stored, Mapping):
        return {key: stored.get(key, v) if v == MASK else v for key, v in sent.items()}
    return stored if sent == MASK and stored is not None else sent


def unmask_secrets(kind: str, data: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each masked secret put back to the stored value it stands for.

    So a client that sends back what it read (masked) keeps the secrets instead of storing
    the mask as the new password.
    """
    result = dict(data)
    for key in secret_options(kind) & data.keys():
        result[key] = _unmasked(data[key], stored.get(key))
    return result
