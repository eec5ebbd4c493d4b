"""Copies of monitors: the same settings under a new name, paused or checking at once."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from monitoring.checks import kind_spec
from monitoring.models import Monitor
from monitoring.pauses import Actor, record_created

NAME_LIMIT = 200


def copy_name(monitor: Monitor) -> str:
    """ "Home (copy)", or "Home (copy 2)"… the first the site does not use yet."""
    taken = set(Monitor.objects.filter(site_id=monitor.site_id).values_list("name", flat=True))
    number = 1
    while True:
        suffix = _(" (copy)") if number == 1 else _(" (copy %(n)d)") % {"n": number}
        name = monitor.name[: NAME_LIMIT - len(suffix)] + suffix
        if name not in taken:
            return name
        number += 1


def clone_monitor(monitor: Monitor, *, paused: bool, actor: Actor) -> Monitor:
    """A copy of the monitor on the same site; a kind whose target sitecare makes (a
    heartbeat's ping token) gets a new one, so the copy's pings never count for the original.

    1. Copy the definition (not the engine's state: the copy starts unknown).
    2. Save it and record the pause at creation when it starts paused.
    """
    new_target = kind_spec(monitor.kind).new_target
    copy = Monitor(
        site_id=monitor.site_id,
        name=copy_name(monitor),
        kind=monitor.kind,
        url=new_target() if new_target is not None else monitor.url,
        config=dict(monitor.config or {}),
        interval_s=monitor.interval_s,
        timeout_s=monitor.timeout_s,
        confirm_down=monitor.confirm_down,
        confirm_up=monitor.confirm_up,
        recheck_s=monitor.recheck_s,
        critical=monitor.critical,
        enabled=not paused,
    )
    with transaction.atomic():
        copy.save()
        record_created(copy, actor)
    return copy
