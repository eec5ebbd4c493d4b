"""Flap detection: a monitor going up and down sends at most one open and one resolve alert
per flap window (``Organization.flap_window_seconds``, default 10 min, 0 turns it off).

1. The first outage opens an incident and alerts; its first recovery resolves it and alerts,
   both at once, as always.
2. Down again within the window after that resolve: the same incident is *reopened* silently
   (a ``flapped`` event on its timeline, ``flap_count`` + 1).
3. While an incident has flapped, a recovery does not resolve it: ``up_since`` is set and the
   resolve waits until the monitor has stayed up for a whole window; another failure before
   that is one more flap.
4. The alert sender's ``handle_one_flap_settle`` step finishes windows: an incident up for the
   whole window resolves (with an alert only if the last alert said "down"); an incident still
   down a window after the last alert said "up" is announced again ("down", once).
Each incident remembers what its last alert said (``announced_state``/``announced_at``), so
whatever the pattern, alerts alternate and two alerts of the same kind are a window apart.
This module changes incidents only; ``incidents.logic`` writes the alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F
from django.utils import translation

from incidents.models import EventKind, Incident, IncidentEvent, IncidentState
from incidents.templating import human_duration
from monitoring.models import Monitor, StateChange
from sitecare.lib.messages import deferred as _
from sitecare.lib.messages import deferred_plural as ngettext
from tenancy.models import Organization


def flap_window(organization: Organization) -> timedelta:
    return timedelta(seconds=organization.flap_window_seconds)


def _record_flap(incident: Incident, at: datetime, message: str) -> None:
    IncidentEvent.objects.create(incident=incident, at=at, kind=EventKind.FLAPPED, message=message)


def reopen(monitor: Monitor, change: StateChange, *, detected_at: datetime) -> Incident | None:
    """Reopen the monitor's incident resolved less than a window before this outage began.

    Returns None when there is none (or flap detection is off): the caller opens a new one.
    Runs inside the caller's transaction, after it made sure no incident is open.
    """
    organization = monitor.site.client.organization
    window = flap_window(organization)
    if not window:
        return None
    recent = (
        Incident.objects.filter(
            monitor=monitor, state=IncidentState.RESOLVED, resolved_at__gt=change.at - window
        )
        .order_by("-resolved_at", "-pk")
        .first()
    )
    if recent is None or recent.resolved_at is None:
        return None
    up_for = (change.at - recent.resolved_at).total_seconds()
    reopened = Incident.objects.filter(pk=recent.pk, state=IncidentState.RESOLVED).update(
        state=IncidentState.OPEN, resolved_at=None, up_since=None, flap_count=F("flap_count") + 1
    )
    if reopened != 1:
        return None
    recent.refresh_from_db()
    with translation.override(organization.language):
        message = _(
            "Down again after %(up)s up (flap %(count)d): no new alert before the flap window "
            "of %(window)s has passed."
        ) % {
            "up": human_duration(max(up_for, 0.0)),
            "count": recent.flap_count,
            "window": human_duration(window.total_seconds()),
        }
    _record_flap(recent, detected_at, message)
    return recent


def note_flap(incident: Incident, change: StateChange, *, detected_at: datetime) -> bool:
    """A down flip while the incident waits to resolve: one more flap; False when it was not."""
    if incident.up_since is None:
        return False
    counted = Incident.objects.filter(
        pk=incident.pk, state=IncidentState.OPEN, up_since=incident.up_since
    ).update(up_since=None, flap_count=F("flap_count") + 1)
    if counted != 1:
        return False
    up_for = (change.at - incident.up_since).total_seconds()
    incident.refresh_from_db()
    with translation.override(incident.monitor.site.client.organization.language):
        message = _("Down again after %(up)s up (flap %(count)d).") % {
            "up": human_duration(max(up_for, 0.0)),
            "count": incident.flap_count,
        }
    _record_flap(incident, detected_at, message)
    return True


def defer_resolve(incident: Incident, change: StateChange) -> bool:
    """Keep a flapping incident open while the monitor is up; False for one that never flapped.

    The resolve then waits for ``handle_one_flap_settle``: the monitor must stay up a window.
    """
    if incident.flap_count == 0 or not flap_window(incident.monitor.site.client.organization):
        return False
    Incident.objects.filter(pk=incident.pk, state=IncidentState.OPEN, up_since=None).update(
        up_since=change.at
    )
    return True


def candidates(now: datetime) -> list[Incident]:
    """Open incidents that have flapped and whose window may be over (few: checked in Python)."""
    incidents = Incident.objects.filter(state=IncidentState.OPEN, flap_count__gt=0).select_related(
        "monitor__site__client__organization"
    )
    return [i for i in incidents if _window_over(i, now)]


def up_for_window(incident: Incident, at: datetime) -> bool:
    """True when the flapping incident's monitor has been up a whole window by ``at``."""
    window = flap_window(incident.monitor.site.client.organization)
    return incident.up_since is not None and at - incident.up_since >= window


def _window_over(incident: Incident, now: datetime) -> bool:
    window = flap_window(incident.monitor.site.client.organization)
    if incident.up_since is not None:
        return up_for_window(incident, now)
    announced_at = incident.announced_at or incident.opened_at
    return incident.announced_state == IncidentState.RESOLVED and now - announced_at >= window


def settle(incident: Incident, now: datetime) -> str | None:
    """Finish one incident's flap window; the alert to send ("" for none), None if unchanged.

    1. Up for a whole window: resolve it, dated when it came up; alert "resolved" only if the
       last alert said "down" (after a silent reopen people were already told "up").
    2. Still down a window after the last alert said "up": announce "down" again.
    The caller runs this in a transaction and writes the alert it returns.
    """
    if incident.up_since is not None:
        resolved = Incident.objects.filter(
            pk=incident.pk, state=IncidentState.OPEN, up_since=incident.up_since
        ).update(
            state=IncidentState.RESOLVED,
            resolved_at=incident.up_since,
            up_since=None,
            announced_state=IncidentState.RESOLVED,
            announced_at=now,
        )
        if resolved != 1:
            return None
        with translation.override(incident.monitor.site.client.organization.language):
            message = ngettext(
                "Up for a whole flap window after %(count)d flap.",
                "Up for a whole flap window after %(count)d flaps.",
                incident.flap_count,
            ) % {"count": incident.flap_count}
        IncidentEvent.objects.create(
            incident=incident, at=now, kind=EventKind.RESOLVED, message=message
        )
        told_down = incident.announced_state == IncidentState.OPEN
        incident.refresh_from_db()
        return EventKind.RESOLVED if told_down else ""
    announced = Incident.objects.filter(
        pk=incident.pk,
        state=IncidentState.OPEN,
        up_since=None,
        announced_state=IncidentState.RESOLVED,
    ).update(announced_state=IncidentState.OPEN, announced_at=now)
    if announced != 1:
        return None
    incident.refresh_from_db()
    return EventKind.OPENED
