"""Recurring wall-clock intervals: an RRULE expanded on local times, then placed in UTC.

Pure functions, no database: maintenance windows use them, and anything else that repeats on a
local calendar (the SLA calendars) may. A recurrence is a naive local start, a duration and an
optional RFC 5545 RRULE. Its occurrences are found on naive wall-clock times (so a weekly
Sunday 02:00 stays 02:00 across summer time), and each start is then placed in a zone:

- a local time that does not exist (spring forward, 02:30 in Warsaw on 2026-03-29) is moved
  forward by the gap (03:30 CEST), as cron runs a job scheduled in the skipped hour;
- a local time that happens twice (fall back, 02:30 on 2026-10-25) is its first occurrence
  (CEST), again as cron does; both are ``fold=0`` of PEP 495;
- the duration is real elapsed time: a 2-hour window lasts 2 hours on those nights too, so it
  may end at a different wall-clock time than on other weeks.

Rules are validated so that no expansion can run away: only HOURLY or slower frequencies, at
most one BYMINUTE (so at most 24 starts a day), no BYSECOND, a bounded COUNT, and a rule that
never produces a date (February 30) is refused — dateutil would otherwise search until the year
9999. Expansions are bounded by the query period: HOURLY, DAILY and WEEKLY rules without COUNT
are re-based near the period by whole periods, so the cost does not grow with the window's age.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from sitecare.lib.messages import deferred as _

ALLOWED_PARTS = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "BYDAY",
        "BYMONTHDAY",
        "BYMONTH",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYSETPOS",
        "BYHOUR",
        "BYMINUTE",
        "WKST",
    }
)
ALLOWED_FREQUENCIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_COUNT = 5000
MAX_INTERVAL = 1000
# The Gregorian calendar repeats exactly every 400 years (weekdays and leap years alike).
CALENDAR_CYCLE_YEARS = 400
# Local and UTC times differ by at most 26 hours (UTC-12 to UTC+14): searching local starts a
# day and a half beyond the period's ends, then filtering exactly in UTC, misses nothing.
LOCAL_SLACK = timedelta(hours=36)
_REBASE_UNITS = {
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
}


class RuleError(ValueError):
    """A rule that is refused; the message says why, for the person who wrote it."""


@dataclass(frozen=True)
class Recurrence:
    """A naive local start, a duration, and the rule's parts (none: it happens once)."""

    start: datetime
    duration: timedelta
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def is_recurring(self) -> bool:
        return bool(self.parts)

    def rule(self) -> rrule:
        """The dateutil rule, anchored at the local start (only for recurring ones)."""
        return rrulestr("RRULE:" + format_rule(self.parts), dtstart=self.start)


def normalize_rule(text: str) -> str:
    """Upper-case, no ``RRULE:`` prefix, no spaces: the form rules are stored in."""
    rule = "".join(text.split()).upper()
    return rule.removeprefix("RRULE:")


def format_rule(parts: dict[str, str]) -> str:
    return ";".join(f"{key}={value}" for key, value in parts.items())


def split_rule(text: str) -> dict[str, str]:
    """``FREQ=WEEKLY;BYDAY=SU`` as ``{"FREQ": "WEEKLY", "BYDAY": "SU"}``; checks the parts.

    1. One rule line only: DTSTART, EXDATE or a second line are refused (the start has a field
       of its own).
    2. Every part is ``NAME=value``, named once, and one of the supported names.
    3. FREQ is given and at most hourly; BYMINUTE has one value; COUNT and UNTIL exclude each
       other; UNTIL is a local time (the rule is expanded on the site's wall clock).
    """
    rule = normalize_rule(text)
    if "\n" in text.strip() or ":" in rule:
        raise RuleError(_("Give one rule line only, like FREQ=WEEKLY;BYDAY=SU."))
    parts: dict[str, str] = {}
    for piece in filter(None, rule.split(";")):
        name, sep, value = piece.partition("=")
        if not sep or not value:
            raise RuleError(_("“%(part)s” is not NAME=value.") % {"part": piece})
        if name not in ALLOWED_PARTS:
            raise RuleError(_("%(name)s is not supported here.") % {"name": name})
        if name in parts:
            raise RuleError(_("%(name)s is given twice.") % {"name": name})
        parts[name] = value
    _check_parts(parts)
    return parts


def _check_parts(parts: dict[str, str]) -> None:
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError(_("FREQ is missing (e.g. FREQ=WEEKLY)."))
    if freq not in ALLOWED_FREQUENCIES:
        raise RuleError(
            _("FREQ must be one of %(allowed)s: a window repeats at most hourly.")
            % {"allowed": ", ".join(ALLOWED_FREQUENCIES)}
        )
    if "," in parts.get("BYMINUTE", ""):
        raise RuleError(_("BYMINUTE takes one value: a window starts at most once an hour."))
    interval = parts.get("INTERVAL", "1")
    if not (interval.isdigit() and 1 <= int(interval) <= MAX_INTERVAL):
        raise RuleError(_("INTERVAL must be a number from 1 to %(max)d.") % {"max": MAX_INTERVAL})
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError(_("Give COUNT or UNTIL, not both."))
    if "COUNT" in parts and not (
        parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= MAX_COUNT
    ):
        raise RuleError(_("COUNT must be a number from 1 to %(max)d.") % {"max": MAX_COUNT})
    if parts.get("UNTIL", "").endswith("Z"):
        raise RuleError(
            _(
                "UNTIL is read on the site's local clock: write it without the final Z "
                "(e.g. UNTIL=20261231T235959)."
            )
        )


def parse(text: str, start: datetime, duration: timedelta) -> Recurrence:
    """A validated recurrence: the rule (blank: once) checked and proven to produce a date.

    1. Split and check the parts (:func:`split_rule`).
    2. Let dateutil read the rule; its complaints become a :class:`RuleError`.
    3. Prove the rule has an occurrence: dateutil searches an impossible rule (February 30)
       until the year 9999, so the search runs on a copy moved by whole 400-year calendar
       cycles to just before that year, where it ends within 400 years of calendar.
    """
    if not normalize_rule(text):
        return Recurrence(start=start, duration=duration)
    recurrence = Recurrence(start=start, duration=duration, parts=split_rule(text))
    try:
        rule = recurrence.rule()
    except (ValueError, TypeError, OverflowError) as exc:
        raise RuleError(_("Not a valid RRULE: %(error)s") % {"error": exc}) from exc
    if rule._until is not None and rule._until < start:
        raise RuleError(_("UNTIL is before the start."))
    if _first_far_away(rule, start) is None:
        raise RuleError(_("The rule never produces a date (like February 30)."))
    return recurrence


def _first_far_away(rule: rrule, start: datetime) -> datetime | None:
    cycles = (datetime.max.year - start.year) // CALENDAR_CYCLE_YEARS
    if cycles <= 0:
        return rule.after(start, inc=True)
    years = cycles * CALENDAR_CYCLE_YEARS
    until = rule._until  # dateutil keeps UNTIL here; it has no public accessor
    if until is not None and until.year + years > datetime.max.year:
        until = None  # beyond the search anyway
    moved_start = start.replace(year=start.year + years)
    moved = rule.replace(
        dtstart=moved_start, until=until.replace(year=until.year + years) if until else None
    )
    return moved.after(moved_start, inc=True)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time in UTC: a skipped time moves forward, a repeated one is the first."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _rebased(recurrence: Recurrence, rule: rrule, not_before: datetime) -> rrule:
    """The same rule started by whole periods later, close before ``not_before`` (local).

    Exact for HOURLY, DAILY and WEEKLY rules without COUNT: their starts repeat with the
    period (INTERVAL hours, days or weeks of wall-clock time), and the parts dateutil takes
    from the start (minute, time of day, weekday) are the same after a whole number of periods.
    """
    unit = _REBASE_UNITS.get(recurrence.parts["FREQ"])
    if unit is None or "COUNT" in recurrence.parts:
        return rule
    period = unit * int(recurrence.parts.get("INTERVAL", "1"))
    periods = (not_before - recurrence.start) // period - 1
    if periods <= 0:
        return rule
    return rule.replace(dtstart=recurrence.start + periods * period)


def local_starts(recurrence: Recurrence, low: datetime, high: datetime) -> list[datetime]:
    """The naive local starts from ``low`` to ``high`` (both included)."""
    if not recurrence.is_recurring:
        return [recurrence.start] if low <= recurrence.start <= high else []
    rule = _rebased(recurrence, recurrence.rule(), low)
    return list(rule.between(low, high, inc=True))


def next_local_starts(recurrence: Recurrence, after: datetime, count: int) -> list[datetime]:
    """Up to ``count`` naive local starts at or after ``after``."""
    if not recurrence.is_recurring:
        return [recurrence.start] if recurrence.start >= after else []
    rule = _rebased(recurrence, recurrence.rule(), after)
    return list(rule.xafter(after, count=count, inc=True))


def last_local_start(recurrence: Recurrence) -> datetime | None:
    """The last naive local start, or at least a time not before it; None when endless."""
    if not recurrence.is_recurring:
        return recurrence.start
    rule = recurrence.rule()
    if "UNTIL" in recurrence.parts:
        return max(rule._until, recurrence.start)
    if "COUNT" in recurrence.parts:
        starts = list(rule)
        return starts[-1] if starts else recurrence.start
    return None


def occurrences(
    recurrence: Recurrence, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The occurrences overlapping ``[start, end)`` as aware UTC ``(start, end)`` pairs.

    1. Turn the period, widened by the duration (an occurrence that began earlier may still
       run) and by the zone slack, into naive local bounds.
    2. Expand the rule between them on wall-clock times.
    3. Place each start in the zone (:func:`to_utc`), add the duration, keep what overlaps.
    """
    low = (start - recurrence.duration).astimezone(zone).replace(tzinfo=None) - LOCAL_SLACK
    high = end.astimezone(zone).replace(tzinfo=None) + LOCAL_SLACK
    found = []
    for local in local_starts(recurrence, low, high):
        begins = to_utc(local, zone)
        ends = begins + recurrence.duration
        if begins < end and ends > start:
            found.append((begins, ends))
    return found


def merge(
    intervals: Iterable[tuple[datetime, datetime]],
) -> list[tuple[datetime, datetime]]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[tuple[datetime, datetime]] = []
    for begins, ends in sorted(intervals):
        if merged and begins <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
        else:
            merged.append((begins, ends))
    return merged
