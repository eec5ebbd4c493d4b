"""Reporting periods: calendar months and quarters in a plan's time zone, as UTC intervals.

A month is from local midnight of its first day to local midnight of the next month's first
day, so a Warsaw October has 31 days and one extra hour (the clocks go back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from sla.calendar import wall_clock_moment

# ASCII digits only (``\d`` also takes ٢٠٢٦), the whole text (``$`` also takes a final newline).
_PERIOD = re.compile(r"([0-9]{4})-(?:([0-9]{2})|[Qq]([1-4]))")
# Years a period may name: no monitoring before the epoch, and the arithmetic around a period
# (the next month, the months of history before it) must stay within datetime's years 1-9999.
MIN_YEAR, MAX_YEAR = 1970, 2999


class PeriodError(ValueError):
    """A period that cannot be read."""


@dataclass(frozen=True)
class Period:
    """A month (``2026-10``) or a quarter (``2026-Q4``) in a time zone."""

    year: int
    first_month: int
    months: int  # 1 or 3
    time_zone: str

    @property
    def label(self) -> str:
        if self.months == 3:
            return f"{self.year}-Q{(self.first_month - 1) // 3 + 1}"
        return f"{self.year}-{self.first_month:02d}"

    @property
    def start(self) -> datetime:
        return _local_midnight(self.year, self.first_month, self.time_zone)

    @property
    def end(self) -> datetime:
        year, month = divmod(self.first_month - 1 + self.months, 12)
        return _local_midnight(self.year + year, month + 1, self.time_zone)

    def months_within(self) -> list[Period]:
        return [
            Period(self.year, self.first_month + i, 1, self.time_zone) for i in range(self.months)
        ]

    def previous(self) -> Period:
        year, month = divmod(self.first_month - 1 - self.months, 12)
        return Period(self.year + year, month + 1, self.months, self.time_zone)

    def following(self) -> Period:
        year, month = divmod(self.first_month - 1 + self.months, 12)
        return Period(self.year + year, month + 1, self.months, self.time_zone)

    def quarter(self) -> Period:
        """The quarter this period lies in."""
        return Period(self.year, (self.first_month - 1) // 3 * 3 + 1, 3, self.time_zone)


def parse_period(text: str, time_zone: str) -> Period:
    """``2026-10`` or ``2026-Q4`` (in ``time_zone``); a clear error otherwise."""
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise PeriodError(
            _("period: %(text)s is not a month or a quarter (like 2026-10 or 2026-Q4)")
            % {"text": text}
        )
    year, month, quarter = match.groups()
    if not MIN_YEAR <= int(year) <= MAX_YEAR:
        raise PeriodError(
            _("period: %(text)s is not between the years %(first)d and %(last)d")
            % {"text": text, "first": MIN_YEAR, "last": MAX_YEAR}
        )
    if quarter:
        return Period(int(year), (int(quarter) - 1) * 3 + 1, 3, time_zone)
    if not 1 <= int(month) <= 12:
        raise PeriodError(_("period: %(text)s has no such month") % {"text": text})
    return Period(int(year), int(month), 1, time_zone)


def month_of(moment: datetime, time_zone: str) -> Period:
    """The month, in ``time_zone``, that ``moment`` falls in."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return Period(local.year, local.month, 1, time_zone)


def _local_midnight(year: int, month: int, time_zone: str) -> datetime:
    return wall_clock_moment(datetime(year, month, 1), ZoneInfo(time_zone)).astimezone(UTC)
