"""Incidents' domain functions: open and resolve incidents, write the notification outbox."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation

from incidents import flapping
from incidents.ack import ack_url
from incidents.escalation import restart_escalation, start_escalation, stop_escalation
from incidents.models import (
    Channel,
    EscalationStop,
    EventKind,
    HeldOutage,
    Incident,
    IncidentEvent,
    IncidentState,
    MaintenanceWindow,
    Notification,
)
from incidents.models.core import Severity, severities_at_most
from incidents.templating import custom_texts, human_duration, local_since, placeholder_values
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from sitecare.lib.messages import deferred as _
from sitecare.lib.messages import deferred_plural as ngettext


def on_state_change(change: StateChange, *, detected_at: datetime) -> Incident | None:
    """React to a monitor's flip: a down flip opens an incident, an up flip resolves it.

    A down flip detected during a maintenance window is held instead: no incident, no alert;
    ``incidents.maintenance`` opens it after the window if the monitor is still down.
    """
    if change.to_state == MonitorState.DOWN:
        if hold_for_maintenance(change, detected_at=detected_at):
            return None
        return open_incident(change.monitor, change, detected_at=detected_at)
    if change.to_state == MonitorState.UP:
        return resolve_incident(change.monitor, change, detected_at=detected_at)
    return None


def hold_for_maintenance(change: StateChange, *, detected_at: datetime) -> bool:
    """Hold a down flip detected inside a maintenance window of its site; False when none."""
    window = MaintenanceWindow.objects.active_at(change.monitor.site, detected_at)
    if window is None:
        return False
    HeldOutage.objects.get_or_create(
        state_change=change,
        defaults={"monitor": change.monitor, "window": window, "held_at": detected_at},
    )
    return True


# Kinds whose incidents are minor: a page over its speed budget is worth a look, not a page
# to the on-call engineer (channels with a higher ``min_severity`` stay quiet).
MINOR_KINDS = frozenset({CheckKind.SPEED})


def incident_severity(monitor: Monitor) -> str:
    """The severity a monitor's new incident opens with (a person may change it later)."""
    return Severity.MINOR if monitor.kind in MINOR_KINDS else Severity.MAJOR


def open_incident(monitor: Monitor, change: StateChange, *, detected_at: datetime) -> Incident:
    """Open the monitor's incident (or return the one already open) and queue its alerts."""
    with transaction.atomic():
        existing = Incident.objects.filter(monitor=monitor, state=IncidentState.OPEN).first()
        if existing is not None and flapping.up_for_window(existing, change.at):
            settle_flapping(existing, detected_at)  # the settle step was late: a new outage
        elif existing is not None:
            flapping.note_flap(existing, change, detected_at=detected_at)
            return existing
        reopened = flapping.reopen(monitor, change, detected_at=detected_at)
        if reopened is not None:
            return reopened  # silently: see incidents/flapping.py
        incident = Incident.objects.create(
            monitor=monitor,
            opened_at=change.at,
            failure_class=change.failure_class,
            message=change.stored_message(),
            announced_at=detected_at,
            severity=incident_severity(monitor),
        )
        IncidentEvent.objects.create(
            incident=incident,
            at=detected_at,
            kind=EventKind.OPENED,
            message=change.stored_message(),
        )
        enqueue_notifications(incident, EventKind.OPENED, now=detected_at)
        start_escalation(incident, now=detected_at)  # pages its policy's first step
    return incident


def resolve_incident(
    monitor: Monitor, change: StateChange, *, detected_at: datetime
) -> Incident | None:
    """Resolve the monitor's open incident, if any, by conditional UPDATE; queue its alerts."""
    with transaction.atomic():
        incident = Incident.objects.filter(monitor=monitor, state=IncidentState.OPEN).first()
        if incident is None:
            return None
        if flapping.defer_resolve(incident, change):
            return incident  # resolved by handle_one_flap_settle once up for a whole window
        updated = Incident.objects.filter(pk=incident.pk, state=IncidentState.OPEN).update(
            state=IncidentState.RESOLVED,
            resolved_at=change.at,
            announced_state=IncidentState.RESOLVED,
            announced_at=detected_at,
        )
        if updated != 1:
            return None
        incident.state = IncidentState.RESOLVED
        incident.resolved_at = change.at
        IncidentEvent.objects.create(incident=incident, at=detected_at, kind=EventKind.RESOLVED)
        enqueue_notifications(incident, EventKind.RESOLVED, now=detected_at)
        stop_escalation(incident, EscalationStop.RESOLVED, now=detected_at)
    return incident


def handle_one_flap_settle(now: datetime) -> int:
    """Finish flap windows that are over: resolve or re-announce (incidents/flapping.py)."""
    return sum(settle_flapping(incident, now) for incident in flapping.candidates(now))


def settle_flapping(incident: Incident, now: datetime) -> bool:
    """Finish one incident's flap window and queue the alert it calls for; False if unchanged."""
    with transaction.atomic():
        event = flapping.settle(incident, now)
        if event:
            enqueue_notifications(incident, event, now=now)
        if event == EventKind.RESOLVED:
            stop_escalation(incident, EscalationStop.RESOLVED, now=now)
        elif event == EventKind.OPENED:
            restart_escalation(incident, now=now)
    return event is not None


def channels_for(incident: Incident) -> list[Channel]:
    """The channels an incident's alerts go to: routed by scope, then by severity.

    Agency-wide channels, the incident's client's (without a site) and its site's, each only
    if its ``min_severity`` admits the incident's severity; never disabled or personal ones.
    """
    site = incident.monitor.site
    by_scope = (
        Q(client__isnull=True, site__isnull=True)
        | Q(client_id=site.client_id, site__isnull=True)
        | Q(site_id=site.pk)
    )
    return list(
        Channel.objects.routable()
        .filter(organization_id=site.client.organization_id)
        .filter(by_scope, min_severity__in=severities_at_most(incident.severity))
    )


def channels_to_tell(incident: Incident, event: str) -> list[Channel]:
    """The routed channels an incident's ``event`` goes to.

    Only "opened" starts a channel's story: a later event goes to the routed channels that
    were told of the incident (a channel added while it was open hears nothing of an outage
    it never heard of, such as its all-clear).
    """
    channels = channels_for(incident)
    if event == EventKind.OPENED:
        return channels
    told = set(incident.notifications.values_list("channel_id", flat=True))
    return [channel for channel in channels if channel.pk in told]


def dedup_key(incident: Incident, event: str, channel: Channel) -> str:
    """One key per incident, event and channel; a flapping incident's later rounds differ."""
    if incident.flap_count and event in (EventKind.OPENED, EventKind.RESOLVED):
        event = f"{event}-flap{incident.flap_count}"
    return f"sitecare-incident-{incident.pk}-{event}-channel-{channel.pk}"


def enqueue_notifications(incident: Incident, event: str, *, now: datetime) -> list[Notification]:
    """Write one outbox row per channel; the alert sender delivers them after commit."""
    rows = []
    for channel in channels_to_tell(incident, event):
        key = dedup_key(incident, event, channel)
        link = ack_url(incident, channel) if event == EventKind.OPENED else ""
        title, body = render_message(incident, event, key, ack_link=link)
        if channel.title_template or channel.body_template:
            values = placeholder_values(incident, event, dedup_key=key, ack_url=link)
            templates = (channel.title_template, channel.body_template)
            title, body = custom_texts(*templates, values, (title, body))
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


def render_message(
    incident: Incident, event: str, key: str, *, ack_link: str = ""
) -> tuple[str, str]:
    """Title and body of an alert, in the agency's language. Plain text, no template engine.

    ``ack_link`` is the signed one-click acknowledgement link, for the agency's own channels
    (a client's channel gets none: clients do not acknowledge).
    """
    monitor = incident.monitor
    site = monitor.site
    organization = site.client.organization
    with translation.override(organization.language):
        # The client reads alerts in the site's own time: say which zone that is.
        since = local_since(incident)
        reason = str(FailureClass(incident.failure_class).label) if incident.failure_class else ""
        link = f"{settings.SITECARE_BASE_URL}/incidents/{incident.pk}/"
        if event == EventKind.OPENED:
            title = _("[DOWN] %(site)s: %(monitor)s") % {"site": site.name, "monitor": monitor.name}
            lines = [
                _("%(monitor)s on %(site)s (%(client)s) is down.")
                % {"monitor": monitor.name, "site": site.name, "client": site.client.name},
                _("Reason: %(reason)s") % {"reason": reason},
                _("Details: %(message)s") % {"message": incident.message_text}
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
                % {"duration": human_duration(incident.duration_seconds), "since": since},
            ]
        if incident.flap_count:
            flapped = ngettext(
                "It went down again soon after recovering %(count)d time (flapping).",
                "It went down again soon after recovering %(count)d times (flapping).",
                incident.flap_count,
            )
            lines.append(flapped % {"count": incident.flap_count})
        lines.append(_("Incident: %(link)s") % {"link": link})
        if ack_link:
            lines.append(_("Acknowledge: %(link)s") % {"link": ack_link})
        lines.append(_("Reference: %(key)s") % {"key": key})
    return title, "\n".join(line for line in lines if line)
