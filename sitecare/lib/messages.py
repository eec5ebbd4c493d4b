"""Sentences kept as data and rendered in the reader's language when shown (DESIGN rule 13).

A check's verdict, a timeline entry or a recurrence error is made where it happens (the
engine, an alert sender) but read later, by people in other languages and time zones. The
producers write ``_("HTTP %(status)d, expected %(expected)s.") % {...}`` as usual, with ``_``
imported from here: the result is a :class:`Message`, a ``str`` that reads as the sentence in
the language active when it was made (so logs, exceptions and existing callers see text) and
carries its **code** (the catalogue key: the English template, with plain ``%(name)s``
placeholders, DESIGN rule 11) and its **args**. What is stored is the code and the args
(``message_code``, ``message_args`` beside the text); :func:`render` turns them into the
sentence of the language and time zone active when shown. A text stored without a code (typed
by a person, or an old sentence no template matched) is shown as it is.

Values in the args stay data: numbers as numbers, a nested message as its own code and args
(``{"$message": code, "$args": {...}}``), a moment as ``{"$datetime": iso}`` (shown in the
reader's time zone) and a day as ``{"$date": iso}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import formats, timezone, translation
from django.utils.functional import Promise

logger = logging.getLogger(__name__)

# Reserved keys of stored args: a plural form and its count, nested messages and moments.
PLURAL = "$plural"
COUNT = "$count"
NESTED = "$message"
NESTED_ARGS = "$args"
MOMENT = "$datetime"
DAY = "$date"
# The code of sentences joined into one text (each part rendered on its own).
JOINED = "$joined"


class Message(str):
    """A sentence in the active language that remembers its code and args."""

    code: str
    args: dict[str, Any]
    plural: str
    number: int | None

    def __new__(
        cls,
        code: str,
        args: Mapping[str, Any] | None = None,
        *,
        plural: str = "",
        number: int | None = None,
    ) -> Message:
        values = dict(args or {})
        made = super().__new__(cls, _text(code, values, plural, number, encoded=False))
        made.code, made.args, made.plural, made.number = code, values, plural, number
        return made

    def __mod__(self, values: Any) -> Any:
        """``_("… %(name)s …") % {...}``: the same code with its args (a plain ``%`` else)."""
        if not isinstance(values, Mapping) or self.args:
            return str(self) % values
        # The template translated already is this text: fill it (no second catalogue look-up).
        shown = {key: decode(encode(value)) for key, value in values.items()}
        return _assembled(
            str.__mod__(self, shown), self.code, dict(values), self.plural, self.number
        )

    def clipped(self, limit: int) -> Message:
        """The message with its text cut to ``limit`` characters (a column's size); the code
        and args stay whole, so it still renders in full in every language."""
        if len(self) <= limit:
            return self
        return _assembled(str(self)[:limit], self.code, self.args, self.plural, self.number)

    @staticmethod
    def restored(text: str, code: str, args: Mapping[str, Any] | None) -> str:
        """A stored message as a value again (to copy it into another row); plain text when
        it was stored without a code."""
        if not code:
            return text
        values = dict(args or {})
        plural = str(values.pop(PLURAL, "") or "")
        number = values.pop(COUNT, None)
        return _assembled(text, code, values, plural, number if isinstance(number, int) else None)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (a job's payload, a cache) as it reads now, with its code and args.
        return (_assembled, (str(self), self.code, self.args, self.plural, self.number))

    def data(self) -> tuple[str, dict[str, Any]]:
        """The code and the JSON-safe args to store."""
        stored = {key: encode(value) for key, value in self.args.items()}
        if self.plural:
            stored[PLURAL] = self.plural
            stored[COUNT] = self.number
        return self.code, stored


def _assembled(
    text: str, code: str, args: dict[str, Any], plural: str, number: int | None
) -> Message:
    made = str.__new__(Message, text)
    made.code, made.args, made.plural, made.number = code, args, plural, number
    return made


def deferred(code: str) -> Message:
    """``gettext`` for sentences that are stored: the text now, the code for later."""
    return Message(code)


def deferred_plural(singular: str, plural: str, count: int) -> Message:
    """``ngettext`` for sentences that are stored."""
    return Message(singular, plural=plural, number=count)


def joined(parts: Iterable[object], separator: str = " ") -> Message:
    """Sentences shown one after the other, each rendered in the reader's language."""
    return Message(JOINED, {"parts": list(parts), "separator": separator})


def encode(value: Any) -> Any:
    """A value of the args as JSON data (see the module's docstring)."""
    if isinstance(value, Message):
        code, args = value.data()
        return {NESTED: code, NESTED_ARGS: args}
    if isinstance(value, bool | int | float | dict) or value is None:
        return value  # a dict: a value stored already (a message restored from its row)
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Promise):
        # A lazy label (a choice's, a kind's): kept as its own message, so it reads in the
        # language of whoever reads it (with no language active, gettext gives the msgid).
        with translation.override(None):
            return {NESTED: str(value), NESTED_ARGS: {}}
    if isinstance(value, datetime):
        return {MOMENT: value.isoformat()}
    if isinstance(value, date):
        return {DAY: value.isoformat()}
    return str(value)  # text, and lazy labels (read in the language of the moment)


def decode(value: Any) -> Any:
    """A stored value as shown in the active language and time zone."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if NESTED in value:
            return render(str(value[NESTED]), value.get(NESTED_ARGS) or {})
        if MOMENT in value:
            moment = datetime.fromisoformat(str(value[MOMENT]))
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "DATETIME_FORMAT")
        if DAY in value:
            return formats.date_format(date.fromisoformat(str(value[DAY])), "DATE_FORMAT")
    return value


def code_field() -> models.TextField[str, str]:
    """A model's column of a message's code (beside the column of its text)."""
    return models.TextField(blank=True, default="", editable=False)


def args_field() -> models.JSONField:
    """A model's column of a message's args."""
    return models.JSONField(default=dict, blank=True, editable=False)


class StoresMessages:
    """Mixin of models with message columns: ``<name>`` (the text), ``<name>_code`` and
    ``<name>_args``. Saving a :class:`Message` into ``<name>`` fills its code and args (and
    cuts the text to the column); plain text (a note someone typed) leaves them as they are."""

    MESSAGE_FIELDS: tuple[str, ...] = ("message",)

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        for name in self.MESSAGE_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, Message):
                continue
            limit = self._meta.get_field(name).max_length  # type: ignore[attr-defined]
            code, data = value.data()
            setattr(self, name, value.clipped(limit or len(value)))
            setattr(self, f"{name}_code", code)
            setattr(self, f"{name}_args", data)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, f"{name}_code", f"{name}_args"}
        super().save(*args, **kwargs)  # type: ignore[misc]

    def stored_message(self, name: str = "message") -> str:
        """The message column as a value to copy into another row, code and args included."""
        return Message.restored(
            getattr(self, name), getattr(self, f"{name}_code"), getattr(self, f"{name}_args")
        )


def columns(name: str, value: str, limit: int) -> dict[str, Any]:
    """The ``<name>``, ``<name>_code`` and ``<name>_args`` columns of a message, for an
    ``update()`` (which bypasses :class:`StoresMessages`)."""
    text, code, args = stored(value, limit)
    return {name: text, f"{name}_code": code, f"{name}_args": args}


def stored(value: str, limit: int) -> tuple[str, str, dict[str, Any]]:
    """What a model keeps of a message: its text (cut to ``limit``), code and args."""
    if isinstance(value, Message):
        code, args = value.data()
        return str(value)[:limit], code, args
    return str(value)[:limit], "", {}


def render(code: str, args: Mapping[str, Any] | None = None, fallback: str = "") -> str:
    """The sentence of ``code`` and ``args`` in the active language and time zone.

    1. No code: the stored text as it is (typed by a person, or older than this module).
    2. The translated template filled with the decoded args.
    3. A translation whose placeholders do not fit the args: the English template instead, then
       the stored text; logged, never raised (a page must show).
    """
    if not code:
        return fallback
    values = dict(args or {})
    plural = str(values.pop(PLURAL, "") or "")
    raw_count = values.pop(COUNT, None)
    count = raw_count if isinstance(raw_count, int) else None
    try:
        return _text(code, values, plural, count, encoded=True)
    except (KeyError, TypeError, ValueError):
        logger.warning("message %r does not fit its args %r", code, sorted(values))
    try:
        with translation.override(None):
            return _text(code, values, plural, count, encoded=True)
    except (KeyError, TypeError, ValueError):
        return fallback or code


def render_in(language: str, code: str, args: Mapping[str, Any] | None, fallback: str = "") -> str:
    """:func:`render` in ``language`` (an alert's recipient's, an organization's)."""
    with translation.override(language):
        return render(code, args, fallback)


def _text(
    code: str, values: dict[str, Any], plural: str, count: int | None, *, encoded: bool
) -> str:
    if code == JOINED:
        parts = values.get("parts") or []
        shown_parts = decode(parts if encoded else encode(parts))
        return str(values.get("separator", " ")).join(str(part) for part in shown_parts)
    template = (
        translation.ngettext(code, plural, count)
        if plural and count is not None
        else translation.gettext(code)
    )
    if not values:
        return template
    # Fresh args pass through the same encoding as stored ones: a moment reads the same now
    # and later (in the zone active then).
    shown = {key: decode(value if encoded else encode(value)) for key, value in values.items()}
    return template % shown


__all__ = [
    "Message",
    "decode",
    "deferred",
    "deferred_plural",
    "encode",
    "joined",
    "render",
    "render_in",
    "stored",
]
