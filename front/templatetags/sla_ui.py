"""Filters and tags of the care-plan and SLA pages: a plan's target, a fee and a verdict as
people read them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from front.charts_sla import percent_label
from front.sla_figures import VERDICT_BADGE, duration_text, money_text, target_text
from sla.models import ClientPlan
from sla.verdicts import Verdict

register = template.Library()


@register.filter
def target_percent(value: Decimal | str | None) -> str:
    """A plan's availability target as written: "99.9 %" (from a Decimal or the API's text)."""
    return "—" if value is None else target_text(Decimal(value))


@register.filter
def availability_percent(value: str | None) -> str:
    """An availability of the API ("99.583", rounded down) as the SLA page shows it."""
    return "—" if value is None else percent_label(Decimal(value), 3)


@register.filter
def agreed_fee(assignment: ClientPlan | None) -> str:
    """The monthly fee a client pays for a step's plan, with the plan's currency."""
    if assignment is None or assignment.plan is None or assignment.fee is None:
        return "—"
    return money_text(assignment.fee, assignment.plan.currency)


@register.filter
def timespan(value: timedelta | None) -> str:
    """A duration in its two largest units ("43 min 12 s"); a dash for none."""
    return duration_text(value if isinstance(value, timedelta) else None)


@register.simple_tag
def verdict_badge(verdict: str | None) -> SafeString | str:
    """A window's verdict as a badge that says it in words, coloured by what it means: met or
    on track green, at risk amber, missed red, nothing known grey (a dash without one)."""
    if not verdict:
        return "—"
    judged = Verdict(verdict)
    return format_html('<span class="badge {}">{}</span>', VERDICT_BADGE[judged], judged.label)
