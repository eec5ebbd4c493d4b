"""What may be said of a window against its target, and when: pure functions over its figures.

A closed window is **met** or **missed** by its availability (or **unknown** with nothing
counted). A running window is missed only once that is *certain*: its judged downtime already
exceeds the allowance of the whole window (``sla.budget.allowance`` over the window's counted
time), which no later up time can undo, since the figure's up and down time together never
exceed the counted time. Until then it is **at risk** while its burn rate is above 1 (the
budget would run out before the window ends at the pace so far), otherwise **on track**.

Credits follow the same rule. A closed window owes the tier its availability falls below. A
running one owes only what is already certain: the tier of the best availability the window
can still reach, (counted − judged downtime) ÷ counted, which later time can only lower. What
would be owed if the window ended now (the tier of the availability so far) is a separate,
provisional figure, never the credit owed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import models
from django.utils.translation import gettext_lazy as _

from sla.availability import Availability
from sla.budget import allowance
from sla.intervals import ZERO
from sla.terms import credit_percent


class Verdict(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    MISSED = "missed", _("Missed")
    MET = "met", _("Met")
    UNKNOWN = "unknown", _("Nothing known")


def counted_time(figures: Availability) -> timedelta:
    """The window's counted time: in scope less excluded maintenance, lived or to come."""
    return figures.in_scope - figures.excluded


def certainly_missed(figures: Availability, target: Decimal) -> bool:
    """Whether the judged downtime already exceeds what the target allows in the whole window
    (``figures`` must cover the whole window)."""
    allowed = allowance(target, counted_time(figures))
    return figures.judged_down > allowed


def burn_rate(figures: Availability, target: Decimal) -> Fraction | None:
    """The share of the allowance used ÷ the share of the counted time passed; None when the
    target allows no downtime or no counted time has passed."""
    counted = counted_time(figures)
    allowed = allowance(target, counted)
    elapsed = counted - figures.to_come
    if allowed <= ZERO or elapsed <= ZERO:
        return None
    return Fraction(_us(figures.judged_down), _us(allowed)) / Fraction(_us(elapsed), _us(counted))


def verdict(figures: Availability, target: Decimal, *, complete: bool) -> Verdict:
    """The window's verdict (see the module docstring); ``figures`` cover the whole window."""
    if complete:
        percent = figures.percent
        if percent is None:
            return Verdict.UNKNOWN
        return Verdict.MET if percent >= Fraction(target) else Verdict.MISSED
    if certainly_missed(figures, target):
        return Verdict.MISSED
    rate = burn_rate(figures, target)
    return Verdict.AT_RISK if rate is not None and rate > 1 else Verdict.ON_TRACK


def best_reachable_percent(figures: Availability) -> Fraction | None:
    """The highest availability the window can still end with: every moment not yet judged
    down counted as up (None with no counted time)."""
    counted = _us(counted_time(figures))
    if counted == 0:
        return None
    return Fraction(counted - _us(figures.judged_down), counted) * 100


def owed_percent(tiers: list[dict[str, str]], figures: Availability, *, complete: bool) -> Decimal:
    """The credit tier owed: the availability's for a closed window, the one already certain
    for a running window."""
    if complete:
        return credit_percent(tiers, figures.percent)
    return credit_percent(tiers, best_reachable_percent(figures))


def _us(duration: timedelta) -> int:
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds
