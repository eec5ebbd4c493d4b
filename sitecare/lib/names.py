"""Names shown to other people: no control characters, no hidden text-direction marks.

A name is read by others on pages, in alerts and on public status pages. A NUL, a newline or
a right-to-left override (``invoice``, U+202E, ``fdp.exe`` reads "invoiceexe.pdf") makes it say
something else than what was typed, or breaks what shows it. One check, :func:`check_name`,
serves the web forms (:func:`validate_name`, a Django validator), the API and config as code
(:data:`DisplayName`, a pydantic type), with one message.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.utils.translation import gettext as _
from pydantic import AfterValidator

# Bidirectional formatting: embeddings, overrides and isolates, the implicit marks (LRM, RLM,
# ALM) and the line and paragraph separators, which break a line without being a control.
HIDDEN_FORMATTING = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)


def hidden_character(value: str) -> str | None:
    """The first control character (NUL, newline, tab…) or text-direction mark, or None."""
    for char in value:
        if char in HIDDEN_FORMATTING or unicodedata.category(char) == "Cc":
            return char
    return None


def check_name(value: str) -> str:
    """Return the name unchanged, or raise ValueError saying which character is refused."""
    char = hidden_character(value)
    if char is not None:
        raise ValueError(
            _(
                "Control characters and text-direction marks are not allowed here "
                "(found U+%(code)04X)."
            )
            % {"code": ord(char)}
        )
    return value


def validate_name(value: str) -> None:
    """:func:`check_name` as a Django form validator."""
    try:
        check_name(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="hidden_character") from None


DisplayName = Annotated[str, AfterValidator(check_name)]


def guard_names(form: BaseForm, *fields: str) -> None:
    """Check these fields of a form with :func:`validate_name` (a model form's own fields).

    A field the form leaves out (a view-only admin page) is skipped.
    """
    for name in fields:
        if name in form.fields:
            form.fields[name].validators.append(validate_name)
