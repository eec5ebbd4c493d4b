"""The parts of a care plan that are more than one number: hours, closed days, credit tiers.

One parser per part, shared by the model's validators, the UI forms, the API and
config-as-code, so every path accepts and refuses the same things with the same message.
Stored forms are plain JSON:

- business hours: ``{"monday": "08:00-16:00", ...}``; a missing day is closed; ``{}`` is
  around the clock; ``"00:00-00:00"`` (or ``"00:00-24:00"``) is the whole day;
- closed dates: ``["2026-12-24", ...]``, sorted, without repeats;
- credits: ``[{"below": "99.9", "percent": "10"}, ...]`` as exact decimal strings, highest
  threshold first: availability below ``below`` % owes ``percent`` % of the window's fee (the
  largest tier that applies, never a sum).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

from sla.calendar import WEEKDAYS, Hours

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
HUNDRED = Decimal(100)


class TermsError(ValueError):
    """A part of a plan that cannot be read; the message says what and where."""


def parse_hours(value: Any) -> dict[str, str]:
    """Business hours as stored: weekday name → ``"HH:MM-HH:MM"`` (checked, normalised)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise TermsError(_("give the hours per weekday, like monday: 08:00-16:00"))
    hours: dict[str, str] = {}
    for day, text in value.items():
        name = str(day).strip().lower()
        if name not in WEEKDAYS:
            raise TermsError(
                _("%(day)s is not a weekday (use monday … sunday)") % {"day": str(day)}
            )
        if text in (None, "", "closed"):
            continue
        opens, closes = _span(str(text), name)
        hours[name] = f"{opens:%H:%M}-{closes:%H:%M}"
    return {day: hours[day] for day in WEEKDAYS if day in hours}


def hours_tuple(hours: Mapping[str, str]) -> tuple[Hours | None, ...] | None:
    """The calendar's form of stored hours: one entry a weekday, None for around the clock."""
    if not hours:
        return None
    return tuple(_span(hours[day], day) if day in hours else None for day in WEEKDAYS)


def _span(text: str, day: str) -> Hours:
    match = _HOURS.match(text)
    if match is None:
        raise TermsError(
            _("%(day)s: %(text)s is not a span of hours (like 08:00-16:00)")
            % {"day": day, "text": text}
        )
    oh, om, ch, cm = (int(part) for part in match.groups())
    if ch == 24 and cm == 0:
        ch = 0  # 24:00 is midnight at the end of the day
    if oh > 23 or ch > 23 or om > 59 or cm > 59:
        raise TermsError(_("%(day)s: %(text)s is not a time of day") % {"day": day, "text": text})
    opens, closes = time(oh, om), time(ch, cm)
    if closes != time(0) and closes <= opens:
        raise TermsError(_("%(day)s: closing time must be after opening time") % {"day": day})
    return opens, closes


def parse_closed_dates(value: Any) -> list[str]:
    """Closed dates as stored: ISO dates, sorted, no repeats (a list, or text a date a line)."""
    if value in (None, ""):
        return []
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise TermsError(_("give a list of dates (YYYY-MM-DD)"))
    found: set[date] = set()
    for number, item in enumerate(items, start=1):
        if isinstance(item, date):
            found.add(item)
            continue
        try:
            found.add(date.fromisoformat(str(item).strip()))
        except ValueError:
            raise TermsError(
                _("item %(number)s: %(text)s is not a date (YYYY-MM-DD)")
                % {"number": number, "text": str(item)}
            ) from None
    return [day.isoformat() for day in sorted(found)]


def parse_credits(value: Any) -> list[dict[str, str]]:
    """Credit tiers as stored, highest threshold first (a list of mappings, or text lines).

    Text form, one tier a line: ``99.9: 10`` (below 99.9 % → 10 % of the fee).
    """
    if value in (None, ""):
        return []
    items = _credit_lines(value) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise TermsError(_("give a list of tiers, each with below and percent"))
    tiers: dict[Decimal, Decimal] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or set(item) != {"below", "percent"}:
            raise TermsError(
                _("tier %(number)s: needs exactly below and percent") % {"number": number}
            )
        below = _decimal(item["below"], number, "below")
        percent = _decimal(item["percent"], number, "percent")
        if not 0 < below <= HUNDRED:
            raise TermsError(
                _("tier %(number)s: below must be more than 0 and at most 100") % {"number": number}
            )
        if not 0 <= percent <= HUNDRED:
            raise TermsError(
                _("tier %(number)s: percent must be from 0 to 100") % {"number": number}
            )
        if below in tiers:
            raise TermsError(
                _("tier %(number)s: a tier below %(below)s %% is already given")
                % {"number": number, "below": below}
            )
        tiers[below] = percent
    ordered = sorted(tiers.items(), reverse=True)
    return [{"below": _plain(b), "percent": _plain(p)} for b, p in ordered]


def _credit_lines(text: str) -> list[dict[str, str]]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        below, sep, percent = line.partition(":")
        if not sep:
            raise TermsError(
                _("line %(number)s: write a tier as below: percent (like 99.9: 10)")
                % {"number": number}
            )
        items.append({"below": below.strip().rstrip("%"), "percent": percent.strip().rstrip("%")})
    return items


def credits_text(tiers: list[dict[str, str]]) -> str:
    """Stored tiers as the text form a form field shows."""
    return "\n".join(f"{tier['below']}: {tier['percent']}" for tier in tiers)


def _decimal(value: Any, number: int, name: str) -> Decimal:
    try:
        found = Decimal(str(value).strip())
    except InvalidOperation:
        found = Decimal("NaN")
    if not found.is_finite():
        raise TermsError(
            _("tier %(number)s: %(name)s must be a number") % {"number": number, "name": name}
        )
    return found


def _plain(value: Decimal) -> str:
    """``Decimal("10.0")`` → ``"10"``; ``99.90`` → ``"99.9"``."""
    text = format(value.normalize(), "f")
    return text


def credit_percent(tiers: list[dict[str, str]], percent: Fraction | None) -> Decimal:
    """The credit owed for an availability (exact percent): the largest applicable tier."""
    if percent is None:
        return Decimal(0)
    owed = [Decimal(t["percent"]) for t in tiers if percent < Fraction(Decimal(t["below"]))]
    return max(owed, default=Decimal(0))
