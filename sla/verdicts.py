"""What may be said of a window against its target, and when: pure functions over its figures.

A closed window is **met** or **missed** by its availability (or **unknown** with nothing
counted). Its figure is judged up ÷ (judged up + judged down), so what a running window can
still end with depends on how much time the figure can still count: its *counted basis*, the
time judged so far (up and down, and unknown time when the plan counts it as up or as down)
plus the counted time still to come. Time no monitor watched (not monitored yet, and unknown
time the plan leaves out) is in no figure, lived or not, so it is not in the basis either:
a client watched from the 25th is judged on the days from the 25th, not on the whole month.

A running window is missed only once that is *certain*: even if all the time to come were
up, the availability would stay below the target, i.e. its judged downtime already exceeds
the allowance of the basis (``sla.budget.allowance``). Later time can only lower what it can
reach (time to come that is down, unknown under a plan that counts it so, or left out of the
figure adds no up time), so a window not missed yet can always still be met, and one missed
stays missed. Until then it is **at risk** while its burn rate is above 1 (at the pace so
far, judged downtime over judged time, the window would end below its target), **on track**
otherwise, and **unknown** while nothing is judged yet.

Credits follow the same rule. A closed window owes the tier its availability falls below. A
running one owes only what is already certain: the tier of the best availability it can
still reach, (basis − judged downtime) ÷ basis, which later time can only lower. What would
be owed if the window ended now (the tier of the availability so far) is a separate,
provisional figure, never the credit owed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import models
from django.utils.translation import gettext_lazy as _

from sitecare.lib.intervals import ZERO
from sla.availability import Availability
from sla.budget import allowance
from sla.microspans import micros
from sla.terms import credit_percent


class Verdict(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    MISSED = "missed", _("Missed")
    MET = "met", _("Met")
    UNKNOWN = "unknown", _("Nothing known")


def judged_time(figures: Availability) -> timedelta:
    """The time the figure has counted so far: judged up plus judged down."""
    return figures.judged_up + figures.judged_down


def counted_basis(figures: Availability) -> timedelta:
    """The most counted time the window's closing figure can have: judged so far plus the
    counted time still to come (see the module docstring)."""
    return judged_time(figures) + figures.to_come


def certainly_missed(figures: Availability, target: Decimal) -> bool:
    """Whether the judged downtime already exceeds what the target allows over the counted
    basis, so that no later up time can bring the window back (``figures`` cover the whole
    window)."""
    return figures.judged_down > allowance(target, counted_basis(figures))


def burn_rate(figures: Availability, target: Decimal) -> Fraction | None:
    """The share of the allowance used ÷ the share of the counted basis judged so far; None
    when the target allows no downtime or nothing is judged yet."""
    basis = counted_basis(figures)
    allowed = allowance(target, basis)
    judged = judged_time(figures)
    if allowed <= ZERO or judged <= ZERO:
        return None
    used = Fraction(micros(figures.judged_down), micros(allowed))
    return used / Fraction(micros(judged), micros(basis))


def verdict(figures: Availability, target: Decimal, *, complete: bool) -> Verdict:
    """The window's verdict (see the module docstring); ``figures`` cover the whole window."""
    if complete:
        percent = figures.percent
        if percent is None:
            return Verdict.UNKNOWN
        return Verdict.MET if percent >= Fraction(target) else Verdict.MISSED
    if certainly_missed(figures, target):
        return Verdict.MISSED
    if judged_time(figures) <= ZERO:
        return Verdict.UNKNOWN
    rate = burn_rate(figures, target)
    return Verdict.AT_RISK if rate is not None and rate > 1 else Verdict.ON_TRACK


def best_reachable_percent(figures: Availability) -> Fraction | None:
    """The highest availability the window can still end with: all the time to come up
    (None while the basis is empty: nothing judged and nothing to come)."""
    basis = micros(counted_basis(figures))
    if basis == 0:
        return None
    return Fraction(basis - micros(figures.judged_down), basis) * 100


def owed_percent(tiers: list[dict[str, str]], figures: Availability, *, complete: bool) -> Decimal:
    """The credit tier owed: the availability's for a closed window, the one already certain
    (of the best reachable availability) for a running window."""
    if complete:
        return credit_percent(tiers, figures.percent)
    return credit_percent(tiers, best_reachable_percent(figures))
