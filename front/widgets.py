"""Date and time inputs that speak ISO whatever the language of the page.

A browser's ``<input type=date|time|datetime-local>`` accepts only its ISO value
(``2026-12-07``, ``21:02``, ``2026-12-07T21:02``); Django's own widgets write the value in the
active language's first input format (Polish: ``07.12.2026``), which the browser drops, so a
form re-posted in Polish lost its dates. Every form of sitecare uses these three instead.
"""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_TIME = "%H:%M"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _with_type(attrs: dict[str, Any] | None, input_type: str) -> dict[str, Any]:
    return {**(attrs or {}), "type": input_type}


class DateInput(forms.DateInput):
    """``<input type=date>`` with its value as ``YYYY-MM-DD``."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(_with_type(attrs, "date"), format=ISO_DATE)


class TimeInput(forms.TimeInput):
    """``<input type=time>`` with its value as ``HH:MM``."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(_with_type(attrs, "time"), format=ISO_TIME)


class DateTimeLocalInput(forms.DateTimeInput):
    """``<input type=datetime-local>`` with its value as ``YYYY-MM-DDTHH:MM`` (no zone: the
    form says which clock it reads)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(_with_type(attrs, "datetime-local"), format=ISO_DATETIME_LOCAL)


ISO_WIDGETS: tuple[type[forms.Widget], ...] = (DateInput, TimeInput, DateTimeLocalInput)
