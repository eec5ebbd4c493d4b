"""How figures read in the UI: durations, uptime percentages, response times, moments."""

from __future__ import annotations

import math
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format, get_format, get_format_modules, number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# How much of a moment to show (``moment``): the reader's language's named formats, with the
# seconds, the weekday or without the year added where a page needs them.
# The "abbr" details write the month short ("7 Dec 2026", Polish "7 gru 2026"), for tables and
# tooltips where a full month name takes too much room.
MOMENT_DETAILS = (
    "",
    "s",
    "day",
    "short",
    "short_s",
    "weekday",
    "weekday_short",
    "abbr",
    "abbr_s",
    "day_abbr",
)


def short_month() -> str:
    """The format letter of the short month in the active language: ``M`` ("Dec"), or ``b``
    where the language writes it in lower case (Polish "gru": Django's ``M`` capitalises).

    Read from the language's ``SHORT_MONTH`` in ``sitecare/formats``; ``M`` if it has none.
    """
    for module in get_format_modules(get_language()):
        letter = getattr(module, "SHORT_MONTH", None)
        if letter:
            return str(letter)
    return "M"


def moment_format(detail: str = "") -> str:
    """The date format for ``detail`` (one of ``MOMENT_DETAILS``) in the active language.

    Built from the language's named formats (``sitecare/formats``, else Django's): English
    "7 Dec 2026, 21:02", Polish "7 grudnia 2026 21:02" (the month in the genitive).
    """
    if detail not in MOMENT_DETAILS:
        raise ValueError(f"moment detail: {detail!r} is not one of {MOMENT_DETAILS}")
    full = str(get_format("DATETIME_FORMAT"))
    short = f"{get_format('MONTH_DAY_FORMAT')}, H:i"
    found = {
        "": full,
        "s": full.replace("H:i", "H:i:s"),
        "day": str(get_format("DATE_FORMAT")),
        "short": short,
        "short_s": f"{short}:s",
        "weekday": f"D {full}",
        "weekday_short": f"D {short}",
        "abbr": f"j {short_month()} Y, H:i",
        "abbr_s": f"j {short_month()} Y, H:i:s",
        "day_abbr": f"j {short_month()} Y",
    }
    return found[detail]


def moment(value: datetime | date | None, detail: str = "") -> str:
    """A moment (or a day) for people, in the active language and time zone; "" for none."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, moment_format(detail))


def human_duration(seconds: float | None) -> str:
    """A duration in its two largest units: "4 min 12 s", "2 h 5 min", "3 d 4 h"."""
    if seconds is None:
        return "—"
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        (days, _("%(count)d d")),
        (hours, _("%(count)d h")),
        (minutes, _("%(count)d min")),
        (secs, _("%(count)d s")),
    ]
    # Start at the largest non-zero unit; a zero-length duration still reads "0 s".
    first = next((i for i, (value, _label) in enumerate(parts) if value), len(parts) - 1)
    shown = [label % {"count": value} for value, label in parts[first : first + 2] if value]
    return " ".join(shown) or parts[-1][1] % {"count": 0}


def uptime_percent(percent: float | None) -> str:
    """Uptime with two decimals, rounded down so any downtime never shows as 100 %."""
    if percent is None:
        return "—"
    if percent >= 100.0:
        return _("%(value)s %%") % {"value": "100"}
    floored = math.floor(percent * 100) / 100
    return _("%(value)s %%") % {"value": number_format(floored, 2)}


def response_time(ms: float | None) -> str:
    """Milliseconds below one second, seconds with one decimal above."""
    if ms is None:
        return "—"
    if ms < 1000:
        return _("%(value)s ms") % {"value": number_format(round(ms), 0)}
    return _("%(value)s s") % {"value": number_format(ms / 1000, 1)}
