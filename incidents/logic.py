"""Incidents' domain functions: open and resolve incidents, write the notification outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.models import (
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
)
from monitoring.failures import FailureClass
from monitoring.models import Monitor, MonitorState, StateChange


def on_state_change(change: StateChange, *, detected_at: datetime) -> Incident | None:
    """React to a monitor's flip: a down flip opens an incident, an up flip resolves it."""
    if change.to_state == MonitorState.DOWN:
        return open_incident(change.monitor, change, detected_at=detected_at)
    if change.to_state == MonitorState.UP:
        return resolve_incident(change.monitor, change, detected_at=detected_at)
    return None


def open_incident(monitor: Monitor, change: StateChange, *, detected_at: datetime) -> Incident:
    """Open the monitor's incident (or return the one already open) and queue its alerts."""
    with transaction.atomic():
        existing = Incident.objects.filter(monitor=monitor, state=IncidentState.OPEN).first()
        if existing is not None:
            return existing
        incident = Incident.objects.create(
            monitor=monitor,
            opened_at=change.at,
            failure_class=change.failure_class,
            message=change.message,
        )
        IncidentEvent.objects.create(
            incident=incident,
            at=detected_at,
            kind=EventKind.OPENED,
            message=change.message,
        )
        enqueue_notifications(incident, EventKind.OPENED, now=detected_at)
    return incident


def resolve_incident(
    monitor: Monitor, change: StateChange, *, detected_at: datetime
) -> Incident | None:
    """Resolve the monitor's open incident, if any, by conditional UPDATE; queue its alerts."""
    with transaction.atomic():
        incident = Incident.objects.filter(monitor=monitor, state=IncidentState.OPEN).first()
        if incident is None:
            return None
        updated = Incident.objects.filter(pk=incident.pk, state=IncidentState.OPEN).update(
            state=IncidentState.RESOLVED, resolved_at=change.at
        )
        if updated != 1:
            return None
        incident.state = IncidentState.RESOLVED
        incident.resolved_at = change.at
        IncidentEvent.objects.create(incident=incident, at=detected_at, kind=EventKind.RESOLVED)
        enqueue_notifications(incident, EventKind.RESOLVED, now=detected_at)
    return incident


def channels_for(incident: Incident) -> list[Channel]:
    """The enabled channels of the incident's agency: agency-wide ones and its client's."""
    client = incident.monitor.site.client
    return list(
        Channel.objects.filter(organization_id=client.organization_id, enabled=True).filter(
            Q(client__isnull=True) | Q(client_id=client.pk)
        )
    )


def dedup_key(incident: Incident, event: str, channel: Channel) -> str:
    return f"sitecare-incident-{incident.pk}-{event}-channel-{channel.pk}"


def enqueue_notifications(incident: Incident, event: str, *, now: datetime) -> list[Notification]:
    """Write one outbox row per channel; the alert sender delivers them after commit."""
    rows = []
    for channel in channels_for(incident):
        key = dedup_key(incident, event, channel)
        title, body = render_message(incident, event, key)
        rows.append(
            Notification(
                channel=channel,
                incident=incident,
                event=event,
                dedup_key=key,
                title=title,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return Notification.objects.bulk_create(rows, ignore_conflicts=True)


def _human_duration(seconds: float) -> str:
    delta = timedelta(seconds=round(seconds))
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def render_message(incident: Incident, event: str, key: str) -> tuple[str, str]:
    """Title and body of an alert, in the agency's language. Plain text, no template engine."""
    monitor = incident.monitor
    site = monitor.site
    organization = site.client.organization
    with translation.override(organization.language):
        # The client reads alerts in the site's own time: say which zone that is.
        local_start = timezone.localtime(incident.opened_at, ZoneInfo(site.time_zone))
        # One unambiguous 24-hour form for every language: alerts are read at 3 a.m.
        since = f"{local_start:%Y-%m-%d %H:%M:%S} ({site.time_zone})"
        reason = str(FailureClass(incident.failure_class).label) if incident.failure_class else ""
        link = f"{settings.SITECARE_BASE_URL}/incidents/{incident.pk}/"
        if event == EventKind.OPENED:
            title = _("[DOWN] %(site)s: %(monitor)s") % {"site": site.name, "monitor": monitor.name}
            lines = [
                _("%(monitor)s on %(site)s (%(client)s) is down.")
                % {"monitor": monitor.name, "site": site.name, "client": site.client.name},
                _("Reason: %(reason)s") % {"reason": reason},
                _("Details: %(message)s") % {"message": incident.message}
                if incident.message
                else "",
                _("Down since: %(since)s") % {"since": since},
                _("Address: %(url)s") % {"url": monitor.url},
            ]
        else:
            title = _("[UP] %(site)s: %(monitor)s") % {"site": site.name, "monitor": monitor.name}
            lines = [
                _("%(monitor)s on %(site)s (%(client)s) is back up.")
                % {"monitor": monitor.name, "site": site.name, "client": site.client.name},
                _("Outage lasted %(duration)s, since %(since)s.")
                % {"duration": _human_duration(incident.duration_seconds), "since": since},
            ]
        lines += [_("Incident: %(link)s") % {"link": link}, _("Reference: %(key)s") % {"key": key}]
    return title, "\n".join(line for line in lines if line)
