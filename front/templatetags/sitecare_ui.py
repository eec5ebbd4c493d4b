"""Filters and tags the sitecare pages share: badges, durations, percentages, failure labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template

from front import formatting
from front.summaries import Status
from monitoring.failures import FailureClass

register = template.Library()


@register.inclusion_tag("front/_status.html")
def status_badge(status: str) -> dict[str, Any]:
    """A coloured badge that also says its state in words (colour is never the only cue)."""
    known = status if status in Status.LABELS else Status.UNKNOWN
    return {"status": known, "label": Status.LABELS[known]}


@register.filter
def moment(value: datetime | date | None, detail: str = "") -> str:
    """A moment in the reader's language and the current time zone (``front.formatting``):
    ``|moment`` to the minute, ``|moment:"s"`` to the second, ``|moment:"day"`` the day."""
    return formatting.moment(value, detail)


@register.filter
def duration(seconds: float | None) -> str:
    return formatting.human_duration(seconds)


@register.filter
def uptime(percent: float | None) -> str:
    return formatting.uptime_percent(percent)


@register.filter
def response_time(ms: float | None) -> str:
    return formatting.response_time(ms)


@register.filter
def failure_label(value: str) -> str:
    """The human message of a failure class; unknown values shown as they are."""
    if not value:
        return ""
    try:
        return str(FailureClass(value).label)
    except ValueError:
        return value
