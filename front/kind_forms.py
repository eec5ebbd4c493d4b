"""Monitor forms generated from the one definition of a monitor: ``MonitorCommon`` and the kind's
pydantic ``Options`` (``monitoring/checks/<kind>.py``), so a new kind gets its form for free.

The Django fields only carry text from the browser: every judgement (bounds, choices, targets,
the network policy) is ``monitoring.spec.parse_monitor``'s, the same as the API's and
config-as-code's, and its errors land on the named field in the reader's language.

Each Python type becomes a field: bool → checkbox, ``bool | None`` → yes/no/kind default,
Literal → select, int/float → number (min/max from the constraints), str → text (textarea for
long ones), list → one item per line, ``dict[str, str]`` → "Name: value" lines, a nested model →
its own fields (``basic_auth__username``). Secret options are never shown back: a blank secret
keeps the stored value, header values show as ``***``.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticUndefined

from front.kind_words import choice_label, field_label, target_help, target_label
from front.transaction_form import EDITOR_KEYS, TransactionFormMixin
from monitoring.checks import kind_spec, options_model
from monitoring.models import CheckKind, Monitor
from monitoring.spec import (
    MASK,
    NAMING_KEYS,
    MonitorCommon,
    MonitorDefinition,
    monitor_as_data,
    parse_monitor,
    secret_options,
    unmask_secrets,
)
from sitecare.lib.netpolicy import IPNetwork
from sitecare.lib.validation_messages import error_message

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Shape = Literal["bool", "tristate", "choice", "number", "text", "long", "lines", "pairs"]
NESTED = "__"  # basic_auth__username: a nested model's field in the flat form
LONG_TEXT = 5_000  # a str allowed longer than this gets a textarea (body, ca_pem)
# Common fields the form never shows: the kind comes from the page, ``enabled`` on an existing
# monitor changes only through pause and resume (recorded).
HIDDEN_COMMON = frozenset({"kind"})


@dataclass(frozen=True)
class FieldSpec:
    """One form field and the definition key it fills."""

    name: str  # form field name (nested: parent__child)
    key: str  # definition key (nested: the parent)
    shape: Shape
    sub: str = ""  # nested: the child's key
    secret: bool = False


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None`` and whether None is allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _shape(annotation: Any, info: FieldInfo) -> Shape | type[BaseModel]:
    inner, optional = _unwrap(annotation)
    origin = typing.get_origin(inner)
    if inner is bool:
        return "tristate" if optional else "bool"
    if origin is Literal or (isinstance(inner, type) and issubclass(inner, enum.Enum)):
        return "choice"
    if inner in (int, float):
        return "number"
    if origin is list:
        return "lines"
    if origin is dict:
        return "pairs"
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner
    longest = max((m.max_length for m in info.metadata if isinstance(m, MaxLen)), default=0)
    return "long" if longest > LONG_TEXT else "text"


def _choices(name: str, annotation: Any) -> list[tuple[str, StrOrPromise]]:
    inner, _optional = _unwrap(annotation)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return [(str(m.value), str(getattr(m, "label", m.value))) for m in inner]
    # Lazy labels: the form class is built once, its choices read in each request's language.
    return [(str(v), choice_label(name, str(v))) for v in typing.get_args(inner)]


def _number_attrs(name: str, annotation: Any, info: FieldInfo) -> dict[str, Any]:
    """min/max/step for the browser from the constraints (the server judges all the same)."""
    inner, _optional = _unwrap(annotation)
    attrs: dict[str, Any] = {"step": "1" if inner is int else "any"}
    for item in info.metadata:
        if isinstance(item, Ge):
            attrs["min"] = item.ge
        elif isinstance(item, Gt) and inner is int:
            attrs["min"] = int(item.gt) + 1  # type: ignore[call-overload]
        elif isinstance(item, Le):
            attrs["max"] = item.le
        elif isinstance(item, Lt) and inner is int:
            attrs["max"] = int(item.lt) - 1  # type: ignore[call-overload]
    if name == "interval":  # bounded by a setting in its validator, not by a constraint
        attrs.update(min=settings.SITECARE_MIN_INTERVAL_SECONDS, max=86_400)
    return attrs


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return None if info.default is PydanticUndefined else info.default


def _help(name: str, info: FieldInfo, shape: Shape, secret: bool, stored: bool) -> str:
    """The field's description (translated when shown), its default, and how secrets behave."""
    parts = [gettext(info.description)] if info.description else []
    default = _default(info)
    if isinstance(default, float) and default.is_integer():
        default = int(default)  # 10.0 reads as 10
    if shape == "choice" and isinstance(default, str):
        default = choice_label(name, default)  # as the select shows it
    if default not in (None, "", [], {}) and shape not in ("bool", "tristate"):
        parts.append(gettext("Default: %(value)s") % {"value": default})
    if shape == "lines":
        parts.append(gettext("One per line."))
    if shape == "pairs":
        parts.append(gettext("One per line, as Name: value."))
    if secret and stored:
        parts.append(gettext("Stored and not shown: leave blank to keep it."))
    return " · ".join(str(p) for p in parts)


def _django_field(
    name: str, shape: Shape, annotation: Any, info: FieldInfo, label: StrOrPromise
) -> forms.Field:
    if shape == "bool":
        return forms.BooleanField(label=label, required=False)
    if shape == "tristate":
        choices = [("", _("Kind's default")), ("true", _("Yes")), ("false", _("No"))]
        return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))
    if shape == "choice":
        widget = forms.Select(choices=_choices(name, annotation))
        return forms.CharField(label=label, required=False, widget=widget)
    if shape == "number":
        attrs = _number_attrs(name, annotation, info)
        return forms.CharField(label=label, required=False, widget=forms.NumberInput(attrs))
    if shape in ("long", "lines", "pairs"):
        rows = 3 if shape != "long" else 6
        area = forms.Textarea(attrs={"rows": rows})
        return forms.CharField(label=label, required=False, strip=False, widget=area)
    return forms.CharField(label=label, required=False)


class MonitorForm(forms.Form):
    """A monitor of one kind: common fields, then the kind's options (see the module)."""

    kind: str = ""
    specs: tuple[FieldSpec, ...] = ()
    infos: dict[str, tuple[Any, FieldInfo]] = {}
    # A posted editing button (the step editor's add/move/remove): show the form again,
    # neither validated nor saved.
    rearranging = False

    def __init__(self, data: Any = None, *, monitor: Monitor | None = None, **kw: Any) -> None:
        self.monitor = monitor if monitor is not None and monitor.pk else None
        self.stored: dict[str, Any] = dict(self.monitor.config) if self.monitor else {}
        super().__init__(data, initial=self._initial(monitor), **kw)
        for field in self.specs:
            info = self.infos[field.name][1]
            stored = field.secret and self._has_stored(field)
            self.fields[field.name].help_text = _help(
                field.name, info, field.shape, field.secret, stored
            )
        spec = kind_spec(self.kind)
        if spec.new_target is not None:  # a heartbeat's ping token: made by sitecare
            del self.fields["url"]
        else:
            self.fields["url"].label = target_label(self.kind)
            self.fields["url"].help_text = target_help(self.kind)
            self.fields["url"].widget.attrs["required"] = True
        if self.monitor is not None:
            del self.fields["enabled"]
        self.fields["name"].widget.attrs["required"] = True

    def _has_stored(self, field: FieldSpec) -> bool:
        value = self.stored.get(field.key)
        return bool(value.get(field.sub) if field.sub and isinstance(value, Mapping) else value)

    def _initial(self, monitor: Monitor | None) -> dict[str, Any]:
        """Defaults for a new monitor, or the monitor's values (secrets blank or masked)."""
        values: dict[str, Any] = {f.name: _default(self.infos[f.name][1]) for f in self.specs}
        if monitor is None:
            return {name: _shown(value) for name, value in values.items()}
        data = monitor_as_data(monitor)
        secrets = secret_options(self.kind)
        for field in self.specs:
            value = data.get(field.key, values.get(field.name))
            if field.sub:
                value = value.get(field.sub) if isinstance(value, Mapping) else None
            if field.key in secrets and field.sub not in NAMING_KEYS:
                # Scalars are left blank; a mapping keeps its names and masks each value.
                value = None if field.shape != "pairs" else {k: MASK for k in value or {}}
            values[field.name] = value
        return {name: _shown(value) for name, value in values.items()}

    def definition_data(self) -> dict[str, Any]:
        """The flat definition the user typed (empty fields left out: their defaults apply)."""
        data: dict[str, Any] = {"kind": self.kind}
        for field in self.specs:
            if field.name not in self.fields:
                continue
            value = self._value(field)
            if value is None:
                continue
            if field.sub:
                data.setdefault(field.key, {})[field.sub] = value
            else:
                data[field.key] = value
        if self.monitor is not None:
            data["url"] = data.get("url", self.monitor.url)
            data = unmask_secrets(self.kind, data, self.stored)
            data["enabled"] = self.monitor.enabled
        return data

    def _value(self, field: FieldSpec) -> Any:
        raw = self.cleaned_data.get(field.name)
        if field.shape == "bool":
            return bool(raw)
        text = str(raw or "")
        if field.shape == "tristate":
            return {"true": True, "false": False}.get(text)
        if field.shape == "lines":
            return [line.strip() for line in text.splitlines() if line.strip()]
        if field.shape == "pairs":
            return self._pairs(field, text)
        if field.shape == "number":
            text = text.strip()
        if text.strip():
            return text
        if field.secret and field.sub not in NAMING_KEYS:
            return self._kept_secret(field)
        return None

    def _kept_secret(self, field: FieldSpec) -> Any:
        """A blank secret keeps the stored value (a nested one only with its naming part)."""
        value = self.stored.get(field.key)
        if not field.sub:
            return value
        named = self.cleaned_data.get(f"{field.key}{NESTED}{next(iter(NAMING_KEYS))}")
        return value.get(field.sub) if named and isinstance(value, Mapping) else None

    def _pairs(self, field: FieldSpec, text: str) -> dict[str, str] | None:
        pairs: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            if not sep:
                self.add_error(
                    field.name,
                    gettext("“%(line)s” is not Name: value.") % {"line": line.strip()[:100]},
                )
                return None
            pairs[name.strip()] = value.strip()
        return pairs

    def parse(self, allowlist: tuple[IPNetwork, ...]) -> MonitorDefinition | None:
        """Validate through ``parse_monitor`` (the API's and YAML's validator); None if invalid,
        each error shown on its field."""
        if not self.is_valid():
            return None
        data = self.definition_data()
        if not self.is_valid():  # a malformed "Name: value" line
            return None
        try:
            return parse_monitor(data, allowlist)
        except ValidationError as exc:
            self.add_pydantic_errors(exc)
            return None

    def add_pydantic_errors(self, exc: ValidationError) -> None:
        self.add_error_items(exc.errors())

    def add_error_items(self, errors: list[ErrorDetails]) -> None:
        """Each of the validator's errors on the field it names (or above the form)."""
        for error in errors:
            loc = [str(part) for part in error["loc"]]
            name = NESTED.join(loc[:2]) if len(loc) > 1 else (loc[0] if loc else "")
            if name not in self.fields:
                name = loc[0] if loc and loc[0] in self.fields else ""
            message = error_message(error)
            if name:
                self.add_error(name, message)
            else:
                where = ".".join(loc)
                self.add_error(None, f"{where}: {message}" if where else message)

    def option_names(self) -> list[str]:
        """The kind's own fields in order (the template shows them under their own heading)."""
        common = set(MonitorCommon.model_fields)
        return [f.name for f in self.specs if f.key not in common and f.name in self.fields]


def _shown(value: Any) -> Any:
    """A value as the form shows it."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    return "" if value is None else value


def _fields_of(
    model: type[BaseModel], secrets: frozenset[str], skip: frozenset[str]
) -> tuple[list[FieldSpec], dict[str, forms.Field], dict[str, tuple[Any, FieldInfo]]]:
    specs: list[FieldSpec] = []
    fields: dict[str, forms.Field] = {}
    infos: dict[str, tuple[Any, FieldInfo]] = {}
    for key, info in model.model_fields.items():
        if key in skip:
            continue
        shape = _shape(info.annotation, info)
        if isinstance(shape, type):  # a nested model: one field per part
            for sub, sub_info in shape.model_fields.items():
                sub_shape = _shape(sub_info.annotation, sub_info)
                assert not isinstance(sub_shape, type), "one level of nesting"
                name = f"{key}{NESTED}{sub}"
                # Lazy, like the other labels: the class is built once, read per request.
                label = format_lazy("{} · {}", field_label(key), field_label(sub))
                fields[name] = _django_field(name, sub_shape, sub_info.annotation, sub_info, label)
                specs.append(FieldSpec(name, key, sub_shape, sub, secret=key in secrets))
                infos[name] = (sub_info.annotation, sub_info)
                if key in secrets and sub not in NAMING_KEYS:
                    fields[name].widget = forms.PasswordInput(attrs={"autocomplete": "off"})
            continue
        fields[key] = _django_field(key, shape, info.annotation, info, field_label(key))
        specs.append(FieldSpec(key, key, shape, secret=key in secrets))
        infos[key] = (info.annotation, info)
        if key in secrets and shape == "text":
            fields[key].widget = forms.PasswordInput(attrs={"autocomplete": "off"})
    return specs, fields, infos


TRANSACTION = CheckKind.TRANSACTION.value


class TransactionMonitorForm(TransactionFormMixin, MonitorForm):
    """A transaction monitor: its steps in the step editor, variables and secrets as lines."""


@cache
def monitor_form_class(kind: str) -> type[MonitorForm]:
    """The form of a kind (``ValueError`` for a kind this version does not know)."""
    options = options_model(kind)
    common_specs, common_fields, common_infos = _fields_of(
        MonitorCommon, frozenset(), HIDDEN_COMMON
    )
    base: type[MonitorForm] = TransactionMonitorForm if kind == TRANSACTION else MonitorForm
    skip = EDITOR_KEYS if kind == TRANSACTION else frozenset()
    specs, fields, infos = _fields_of(options, secret_options(kind), skip)
    attrs: dict[str, Any] = {
        **common_fields,
        **fields,
        "kind": kind,
        "specs": (*common_specs, *specs),
        "infos": {**common_infos, **infos},
    }
    return type(f"{kind.title()}MonitorForm", (base,), attrs)
