"""The time an SLA counts: 24/7, or business hours in a time zone, less holidays and closed days.

Business hours are wall-clock times in the calendar's zone: a Mon–Fri 08:00–16:00 day starts
when the clocks in Warsaw read 08:00 and ends when they read 16:00. On a summer-time change
day that is still 8 real hours, since the change (02:00/03:00) falls outside those hours; a
span that contains the change (e.g. 00:00–08:00, or a whole day under a 24/7 plan with
holidays) is an hour shorter in March and an hour longer in October, as the clocks say.

One rule places every opening and closing time (:func:`wall_clock_moment`): it is the first
moment the clocks read that time *or later*. A time the spring-forward change skips is never
read, so it is the first moment after the gap (hours 02:30–05:00 in Warsaw on 29 March 2026
run 03:00–05:00 CEST, hours 00:00–02:30 end at 03:00 CEST, hours inside the gap are empty);
a time the autumn change repeats is its first occurrence (hours 02:30–05:00 on 25 October
2026 open at 02:30 CEST, and hours ending at 02:30 close at 02:30 CEST).

Public holidays come from the ``holidays`` package (a country code, optionally a
subdivision); custom closed dates are added by hand. A closed day counts nothing, whatever
its hours.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sitecare.lib.intervals import Interval, check, clip, merge

# Opening hours of one day, local wall clock; a closing time of 00:00 means midnight at the
# end of the day, so (00:00, 00:00) is the whole day.
Hours = tuple[time, time]
WHOLE_DAY: Hours = (time(0), time(0))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Calendar:
    """When an SLA's clock runs; hashable, so its in-scope time can be cached.

    ``hours`` has one entry per weekday (Monday first): that day's hours, or None when the
    day is closed; ``hours=None`` means around the clock every day.
    """

    time_zone: str = "UTC"
    hours: tuple[Hours | None, ...] | None = None
    country: str = ""
    subdivision: str = ""
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Refuse a bad calendar with an error naming the field."""
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"time_zone: unknown time zone {self.time_zone!r}") from exc
        if self.hours is not None:
            if len(self.hours) != len(WEEKDAYS):
                raise ValueError(f"hours: need 7 entries (Monday to Sunday), got {len(self.hours)}")
            for weekday, hours in zip(WEEKDAYS, self.hours, strict=True):
                if hours is not None and hours[1] != time(0) and hours[1] <= hours[0]:
                    raise ValueError(f"hours.{weekday}: closing time must be after opening time")
        if self.country and self.country not in _holiday_countries():
            raise ValueError(f"country: no public holidays known for {self.country!r}")
        if self.subdivision and not self.country:
            raise ValueError("subdivision: needs a country")

    @classmethod
    def always(cls) -> Calendar:
        """24/7: every moment counts."""
        return cls()

    @classmethod
    def business(
        cls,
        time_zone: str,
        *,
        opens: time,
        closes: time,
        weekdays: Iterable[int] = range(5),
        country: str = "",
        subdivision: str = "",
        closed_dates: Iterable[date] = (),
    ) -> Calendar:
        """The same hours on the given weekdays (0 = Monday; default Monday to Friday)."""
        days = set(weekdays)
        return cls(
            time_zone=time_zone,
            hours=tuple((opens, closes) if day in days else None for day in range(7)),
            country=country,
            subdivision=subdivision,
            closed_dates=frozenset(closed_dates),
        )

    @property
    def is_always(self) -> bool:
        return self.hours is None and not self.country and not self.closed_dates

    def is_closed(self, day: date) -> bool:
        """Whether ``day`` (a local date) is a holiday or a custom closed date."""
        if day in self.closed_dates:
            return True
        return bool(self.country) and day in _holidays(self.country, self.subdivision, day.year)

    def hours_on(self, day: date) -> Hours | None:
        """The local opening hours of ``day``, or None when nothing counts that day."""
        if self.is_closed(day):
            return None
        return WHOLE_DAY if self.hours is None else self.hours[day.weekday()]

    def in_scope(self, start: datetime, end: datetime) -> list[Interval]:
        """The counted time within ``[start, end)``, as a UTC span list."""
        check([(start, end)], name="period")
        if self.is_always:
            return [(start, end)] if start < end else []
        return list(_in_scope(self, start.astimezone(UTC), end.astimezone(UTC)))


@functools.lru_cache(maxsize=1024)
def _in_scope(calendar: Calendar, start: datetime, end: datetime) -> tuple[Interval, ...]:
    """The counted time, cached: many sites share a plan and ask for the same months.

    1. List the local dates the period touches (one extra on each side: hours are local).
    2. Place each open day's hours in UTC.
    3. Merge (a whole day touches the next) and clip to the period.
    """
    zone = ZoneInfo(calendar.time_zone)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    spans: list[Interval] = []
    while day <= last:
        hours = calendar.hours_on(day)
        if hours is not None:
            closes_on = day + timedelta(days=1) if hours[1] == time(0) else day
            spans.append(
                (
                    wall_clock_moment(datetime.combine(day, hours[0]), zone),
                    wall_clock_moment(datetime.combine(closes_on, hours[1]), zone),
                )
            )
        day += timedelta(days=1)
    return tuple(clip(merge(spans), start, end))


def wall_clock_moment(local: datetime, zone: ZoneInfo) -> datetime:
    """The first moment (UTC) the clocks of ``zone`` read the naive ``local`` time or later.

    1. Place it with ``fold=0``: a time that exists is its first occurrence; if the clocks
       read it back there, that is the moment.
    2. Otherwise the spring-forward change skips it: the clocks read earlier times before the
       change and later ones from it on, so the moment is the change itself. It lies between
       the two placements (``fold=1`` is the earlier); find it by halving, to the microsecond.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    before = local.replace(tzinfo=zone, fold=1).astimezone(UTC)  # the clocks read earlier
    after = first  # the clocks read later
    while after - before > _MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).replace(tzinfo=None) > local:
            after = middle
        else:
            before = middle
    return after


_MICROSECOND = timedelta(microseconds=1)


@functools.cache
def _holiday_countries() -> frozenset[str]:
    """The countries the ``holidays`` package knows."""
    # Imported here, where a calendar with a country needs it: the package imports ~250
    # country modules (~0.2 s), which every sitecare command would pay at start-up.
    import holidays

    return frozenset(holidays.list_supported_countries())


@functools.lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """A country's public holidays in one year (the ``holidays`` package), cached."""
    import holidays  # heavy: see _holiday_countries

    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())
