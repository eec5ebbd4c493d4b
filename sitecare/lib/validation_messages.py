"""One wording of pydantic's errors, in the reader's language, for every door in: forms, API,
config-as-code and the admin.

A validator's own ``ValueError`` is already a gettext string (pydantic only prefixes it with
"Value error, "); pydantic's built-in checks (bounds, lengths, choices, types) speak English,
so each such error type gets its sentence here, filled from the error's context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

Context = Mapping[str, Any]


def _limit(value: Any) -> Any:
    """120.0 reads as 120: a bound of a float field that is a whole number."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Error type → its sentence in the active language (looked up when shown, never at import).
_BUILT_IN: dict[str, Callable[[Context], str]] = {
    "greater_than_equal": lambda c: (
        _("must be at least %(limit)s") % {"limit": _limit(c.get("ge"))}
    ),
    "greater_than": lambda c: _("must be greater than %(limit)s") % {"limit": _limit(c.get("gt"))},
    "less_than_equal": lambda c: _("must be at most %(limit)s") % {"limit": _limit(c.get("le"))},
    "less_than": lambda c: _("must be less than %(limit)s") % {"limit": _limit(c.get("lt"))},
    "string_too_short": lambda c: (
        _("must have at least %(n)s characters") % {"n": c.get("min_length")}
    ),
    "string_too_long": lambda c: (
        _("must have at most %(n)s characters") % {"n": c.get("max_length")}
    ),
    "too_short": lambda c: _("must have at least %(n)s items") % {"n": c.get("min_length")},
    "too_long": lambda c: _("must have at most %(n)s items") % {"n": c.get("max_length")},
    "literal_error": lambda c: _("must be one of: %(choices)s") % {"choices": c.get("expected")},
    "enum": lambda c: _("must be one of: %(choices)s") % {"choices": c.get("expected")},
    "int_parsing": lambda c: _("must be a whole number"),
    "int_type": lambda c: _("must be a whole number"),
    "int_from_float": lambda c: _("must be a whole number"),
    "float_parsing": lambda c: _("must be a number"),
    "float_type": lambda c: _("must be a number"),
    "bool_parsing": lambda c: _("must be true or false"),
    "bool_type": lambda c: _("must be true or false"),
    "string_type": lambda c: _("must be text"),
    "list_type": lambda c: _("must be a list"),
    "dict_type": lambda c: _("must be a mapping of names to values"),
    "model_type": lambda c: _("must be a mapping of names to values"),
    "missing": lambda c: _("this field is required"),
    "extra_forbidden": lambda c: _("unknown field"),
}


def error_message(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error dict, in the active language."""
    kind = str(error.get("type", ""))
    sentence = _BUILT_IN.get(kind)
    if sentence is not None:
        return sentence(error.get("ctx") or {})
    # A validator's own message (already translated) without pydantic's prefix.
    return str(error.get("msg", "")).removeprefix("Value error, ")
