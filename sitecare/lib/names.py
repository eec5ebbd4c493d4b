"""Names shown to other people: no control characters, no hidden text, no invisible letters.

A name is read by others on pages, in alerts and on public status pages. A NUL, a newline or
a right-to-left override (``invoice``, U+202E, ``fdp.exe`` reads "invoiceexe.pdf") makes it say
something else than what was typed, or breaks what shows it; an invisible character
(U+200B, U+FEFF, a Hangul filler) makes two names that must be unique look the same. One
check, :func:`check_name`, serves every entry point with one message:

- models whose names others read inherit :class:`NamedModel`, so ``full_clean`` checks them:
  every ModelForm of the web UI and every admin page;
- the API and config as code use :data:`DisplayName` (a pydantic type), and the web forms that
  are not model forms :func:`validate_name` (a Django validator).

What is refused: control characters (Cc), format characters (Cf: the text-direction marks,
zero-width space, word joiner, soft hyphen, BOM, interlinear annotations, tags…), surrogates,
line and paragraph separators, and the characters that draw nothing though they are letters
or marks (:data:`BLANKS`). The zero-width joiner and non-joiner are kept where they shape
what is shown (after a virama, between letters of a joining script such as Arabic, between
emoji), and variation selectors after a symbol, an ideograph, a letter of a script without
case, or a keycap digit; elsewhere they are invisible and refused. A name must have a visible
character; the API and config as code strip surrounding spaces, as the web forms do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

# Letters and marks that draw nothing: the Hangul fillers, the halfwidth Hangul filler, the
# combining grapheme joiner, Khmer's inherent vowels, the braille blank.
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u2800")
JOINERS = frozenset("\u200c\u200d")  # zero-width non-joiner and joiner
_KEYCAP = "\u20e3"
# Scripts whose letters join their neighbours: a non-joiner between two of them shows.
_JOINING_SCRIPTS = (
    "ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "MANDAIC", "MANICHAEAN", "PSALTER", "ADLAM",
    "HANIFI", "SOGDIAN", "OLD UYGHUR", "PHAGS-PA", "CHORASMIAN",
)  # fmt: skip
_VIRAMA = 9  # canonical combining class of the viramas of Indic scripts


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    # U+180E between the Mongolian ones is a format character, refused as such.
    mongolian = code in (0x180B, 0x180C, 0x180D, 0x180F)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or mongolian


def _category(text: str, index: int) -> str:
    return unicodedata.category(text[index]) if 0 <= index < len(text) else ""


def _joins(text: str, index: int) -> bool:
    """True when the joiner at ``index`` shapes what is shown (RFC 5892's rules, simplified)."""
    if index == 0 or index + 1 >= len(text):
        return False
    before, after = text[index - 1], text[index + 1]
    if unicodedata.combining(before) == _VIRAMA:
        return True
    if _script(before) in _JOINING_SCRIPTS and _script(after) in _JOINING_SCRIPTS:
        return True
    # Emoji sequences: 👩‍💻, 🏳️‍🌈 (a selector may sit between the emoji and the joiner).
    emoji_before = _category(text, index - 1) in ("So", "Sk") or (
        _is_variation_selector(before) and _category(text, index - 2) == "So"
    )
    return text[index] == "\u200d" and emoji_before and _category(text, index + 1) == "So"


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return next((script for script in _JOINING_SCRIPTS if name.startswith(script + " ")), "")


def _selects(text: str, index: int) -> bool:
    """True when the variation selector at ``index`` follows what it can change."""
    if index == 0:
        return False
    before = text[index - 1]
    if before in "0123456789#*":  # a keycap: 1️⃣
        return text[index + 1 : index + 2] == _KEYCAP
    category = unicodedata.category(before)
    return category in ("So", "Sm", "Sk") or (category == "Lo" and not before.isascii())


def hidden_character(value: str) -> str | None:
    """The first character of ``value`` that would hide or change what others read, or None."""
    for index, char in enumerate(value):
        if char in JOINERS:
            if not _joins(value, index):
                return char
        elif _is_variation_selector(char):
            if not _selects(value, index):
                return char
        elif char in BLANKS or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return char
    return None


def check_name(value: str) -> str:
    """Return the name without surrounding spaces, or raise ValueError saying what is wrong."""
    char = hidden_character(value)
    if char is not None:
        raise ValueError(
            _(
                "Invisible characters, control characters and text-direction marks are not "
                "allowed here (found U+%(code)04X)."
            )
            % {"code": ord(char)}
        )
    name = value.strip()
    if value and not name:
        raise ValueError(_("A name needs at least one visible character."))
    return name


def validate_name(value: str) -> None:
    """:func:`check_name` as a Django form validator."""
    try:
        check_name(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="hidden_character") from None


class _CheckedName:
    """Pydantic's ``AfterValidator(check_name)``, spelt with pydantic's protocol so that this
    module (which every model with a name imports) does not import pydantic itself."""

    def __init__(self, check: Callable[[str], str]) -> None:
        self.check = check

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # pydantic is loaded by the time it asks for a schema; models need not load it.
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.check, handler(source))


DisplayName = Annotated[str, _CheckedName(check_name)]


class NamedModel(models.Model):
    """A model whose names others read: ``full_clean`` checks them with :func:`check_name`.

    Every ModelForm (the web UI's and the admin's) calls ``full_clean``, so the check holds
    there without a validator on each form; a field the form leaves out is not checked, as
    Django does for its own validators. No field changes, so no migration.
    """

    name_fields: ClassVar[tuple[str, ...]] = ("name",)

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        errors: dict[str, list[ValidationError]] = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for field in self.name_fields:
            value = getattr(self, field)
            if field in (exclude or ()) or field in errors or not isinstance(value, str):
                continue
            try:
                validate_name(value)
            except ValidationError as exc:
                errors[field] = exc.error_list
        if errors:
            raise ValidationError(errors)
