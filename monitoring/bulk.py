"""Changing many monitors at once: pause, resume, tag, untag, a new interval, deletion.

Callers pass monitors already loaded through the user's scope; each function changes them in
one transaction. Pauses and resumes go through ``monitoring.pauses.set_enabled`` one by one,
so each gets its ``PauseEvent`` (who, when, which path). A new interval is judged by the one
monitor validator (``monitoring.spec.parse_monitor``) with every monitor's definition, so
the same limits and cross-field rules hold as in the API, the forms and config as code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pydantic
from django.db import transaction
from django.utils import timezone

from monitoring.models import Monitor, Tag
from monitoring.pauses import Actor, set_enabled
from monitoring.spec import MODEL_FIELD_FOR_KEY, monitor_as_data, parse_monitor
from sitecare.lib.netpolicy import IPNetwork


@dataclass(frozen=True)
class Refusal:
    """Why one monitor cannot take a change: its name, the field and the validator's words."""

    monitor: Monitor
    field: str
    message: str


class BulkRefused(Exception):
    """The change was refused for some monitors; nothing was changed."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__(refusals)
        self.refusals = refusals


def set_paused(monitors: Sequence[Monitor], paused: bool, actor: Actor) -> int:
    """Pause (or resume) each monitor, recording each; return how many changed."""
    now = timezone.now()
    with transaction.atomic():
        events = [set_enabled(monitor, not paused, actor, now=now) for monitor in monitors]
    return sum(1 for event in events if event is not None)


def add_tag(monitors: Sequence[Monitor], tag: Tag) -> int:
    """Put the tag on each monitor that lacks it; return how many got it."""
    through = Monitor.tags.through
    with transaction.atomic():
        having = set(
            through.objects.filter(tag=tag, monitor__in=monitors).values_list(
                "monitor_id", flat=True
            )
        )
        rows = [through(monitor_id=m.pk, tag_id=tag.pk) for m in monitors if m.pk not in having]
        through.objects.bulk_create(rows)
    return len(rows)


def remove_tag(monitors: Sequence[Monitor], tag: Tag) -> int:
    """Take the tag off each monitor; return how many had it."""
    through = Monitor.tags.through
    with transaction.atomic():
        removed, _per_model = through.objects.filter(tag=tag, monitor__in=monitors).delete()
    return removed


def interval_refusals(
    monitors: Sequence[Monitor], interval: object, allowlist: Sequence[IPNetwork]
) -> list[Refusal]:
    """What the monitor validator says of each monitor's definition with this interval."""
    refusals = []
    for monitor in monitors:
        try:
            parse_monitor({**monitor_as_data(monitor), "interval": interval}, allowlist)
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                loc = ".".join(str(part) for part in error["loc"]) or "interval"
                refusals.append(Refusal(monitor, loc, error["msg"].removeprefix("Value error, ")))
    return refusals


def set_interval(
    monitors: Sequence[Monitor], interval: object, allowlist: Sequence[IPNetwork]
) -> int:
    """Give every monitor this interval, or none of them (``BulkRefused`` saying why).

    1. Judge each monitor's whole definition with the new interval (a timeout or re-check
       pace longer than the interval is refused as in the API).
    2. Write the interval of those whose interval differs, in one transaction.
    """
    refusals = interval_refusals(monitors, interval, allowlist)
    if refusals:
        raise BulkRefused(refusals)
    assert isinstance(interval, int | str)
    seconds = int(interval)
    now = timezone.now()
    column = MODEL_FIELD_FOR_KEY["interval"]
    changing = [m.pk for m in monitors if getattr(m, column) != seconds]
    with transaction.atomic():
        return Monitor.objects.filter(pk__in=changing).update(**{column: seconds}, updated_at=now)


def delete_monitors(monitors: Sequence[Monitor]) -> int:
    """Delete the monitors with everything that hangs on them; return how many went."""
    with transaction.atomic():
        _total, per_model = Monitor.objects.filter(pk__in=[m.pk for m in monitors]).delete()
    return per_model.get(Monitor._meta.label, 0)
