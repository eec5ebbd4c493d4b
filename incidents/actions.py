"""What people do with an incident: acknowledge it, resolve it by hand, write notes, fill in
its details (severity, affected monitors, root cause, postmortem), and the timeline they see.

Each action is one function writing one timeline line with who did it and when; the views and
API routes only check who may call it (owners and engineers; client users read).

Resolving by hand is allowed while the monitor is still down: it closes the incident (a
mistaken alarm, a known breakage being dealt with), stops the escalation and tells the
channels the incident is closed, saying so honestly when the monitor is still down. No new
incident opens for that same outage: the monitor must recover and fail again (a new confirmed
down flip) to open one.

Clients see their own incidents read-only: opening, resolution, acknowledgement, severity,
root cause and postmortem, and alerts sent to their own channels. Notes and escalation lines
are the agency's internal business and never shown to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from incidents.escalation import stop_escalation
from incidents.logic import channels_to_tell, dedup_key, enqueue_notifications
from incidents.models import (
    Channel,
    EscalationStop,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
)
from incidents.models.core import Severity
from monitoring.models import Monitor, MonitorState
from sitecare.lib import messages
from sitecare.lib.messages import deferred as _
from tenancy.scoping import Scope

NOTE_MAX_CHARS = 1000
ROOT_CAUSE_MAX_CHARS = 5000
POSTMORTEM_MAX_CHARS = 50_000
# Timeline lines a client user never sees: the agency's internal conversation and paging.
INTERNAL_KINDS = frozenset({EventKind.NOTE, EventKind.ESCALATED, EventKind.ESCALATION_ENDED})
NOTIFICATION_KINDS = frozenset({EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED})


class AckVia(models.TextChoices):
    WEB = "web", gettext_lazy("the web")
    API = "api", gettext_lazy("the API")
    LINK = "link", gettext_lazy("the link in an alert")


class AckOutcome(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", gettext_lazy("Acknowledged.")
    ALREADY = "already", gettext_lazy("The incident was already acknowledged.")
    RESOLVED = "resolved", gettext_lazy("The incident is already resolved.")


def _language(incident: Incident) -> str:
    return str(incident.monitor.site.client.organization.language)


def _name(user: User | None) -> str:
    return user.get_username() if user is not None else _("someone")


def acknowledge(
    incident: Incident, user: User | None, via: AckVia, *, channel: Channel | None = None
) -> AckOutcome:
    """Acknowledge an open incident once: who, how, when; stops its escalation.

    The conditional UPDATE lets one of several simultaneous acknowledgements win; the others
    are told it was already acknowledged (or resolved meanwhile).
    """
    now = timezone.now()
    with transaction.atomic():
        updated = Incident.objects.filter(
            pk=incident.pk, state=IncidentState.OPEN, acknowledged_at__isnull=True
        ).update(acknowledged_at=now, acknowledged_by=user)
        if updated != 1:
            incident.refresh_from_db(fields=["state", "acknowledged_at", "acknowledged_by"])
            if incident.state != IncidentState.OPEN:
                return AckOutcome.RESOLVED
            return AckOutcome.ALREADY
        incident.acknowledged_at, incident.acknowledged_by = now, user
        details: dict[str, Any] = {"via": str(via)}
        with translation.override(_language(incident)):
            said = {"person": _name(user), "via": via.label}
            message = _("By %(person)s, through %(via)s.") % said
            if channel is not None:
                details["channel"] = channel.pk
                # One sentence, not two joined: the timeline renders it in each reader's language.
                message = _("By %(person)s, through %(via)s. The link was sent to %(channel)s.") % {
                    **said,
                    "channel": channel.name,
                }
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=EventKind.ACKNOWLEDGED,
            actor=user,
            message=message,
            details=details,
        )
        stop_escalation(incident, EscalationStop.ACKNOWLEDGED, now=now)
    return AckOutcome.ACKNOWLEDGED


def resolve_manually(incident: Incident, user: User, note: str = "") -> bool:
    """Resolve an open incident by hand; False when it was no longer open.

    1. Resolve by conditional UPDATE (a recovery recorded meanwhile wins).
    2. Write the timeline line with the person, their note and whether the monitor was down.
    3. Tell the incident's channels it is closed, and stop the escalation (whose paged
       people are told too).
    """
    note = _checked_text(note, "note", NOTE_MAX_CHARS)
    now = timezone.now()
    with transaction.atomic():
        updated = Incident.objects.filter(pk=incident.pk, state=IncidentState.OPEN).update(
            state=IncidentState.RESOLVED, resolved_at=now
        )
        if updated != 1:
            return False
        incident.state, incident.resolved_at = IncidentState.RESOLVED, now
        still_down = Monitor.objects.filter(
            pk=incident.monitor_id, state=MonitorState.DOWN
        ).exists()
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=EventKind.RESOLVED,
            actor=user,
            message=note,
            details={"manual": True, "monitor_down": still_down},
        )
        _notify_closed(incident, user, still_down, now=now)
        stop_escalation(incident, EscalationStop.RESOLVED, now=now)
    return True


def _notify_closed(incident: Incident, user: User, still_down: bool, *, now: datetime) -> None:
    """The resolution alert of a hand-resolved incident, which must not claim "back up"."""
    site, monitor = incident.monitor.site, incident.monitor
    rows = []
    for channel in channels_to_tell(incident, EventKind.RESOLVED):
        key = dedup_key(incident, EventKind.RESOLVED, channel)
        with translation.override(_language(incident)):
            names = {"site": site.name, "monitor": monitor.name, "number": incident.pk}
            lines = [
                _("Incident #%(number)d (%(monitor)s on %(site)s) was resolved by %(person)s.")
                % {**names, "person": user.get_username()}
            ]
            if still_down:
                lines.append(_("The monitor is still down; no new alert until it recovers."))
            lines.append(_("Reference: %(key)s") % {"key": key})
            title = _("[CLOSED] %(site)s: %(monitor)s") % names
        rows.append(
            Notification(
                channel=channel,
                incident=incident,
                event=EventKind.RESOLVED,
                dedup_key=key,
                title=title,
                body="\n".join(lines),
                next_attempt_at=now,
                created_at=now,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def _checked_text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        message = _("At most %(limit)d characters (this has %(count)d).")
        raise ValidationError({field: message % {"limit": limit, "count": len(text)}})
    return text


def add_note(incident: Incident, user: User, text: str) -> IncidentEvent:
    """An internal note on the timeline (agency only); ``text`` names the field on refusal."""
    text = _checked_text(text, "text", NOTE_MAX_CHARS, required=True)
    return IncidentEvent.objects.create(
        incident=incident, at=timezone.now(), kind=EventKind.NOTE, actor=user, message=text
    )


def _affected(incident: Incident, monitor_ids: Iterable[int]) -> set[int]:
    """The other affected monitors' ids, checked: monitors of the incident's client only.

    The incident's own monitor is always affected and never stored among the others.
    """
    wanted = {int(pk) for pk in monitor_ids} - {incident.monitor_id}
    client_id = incident.monitor.site.client_id
    found = set(
        Monitor.objects.filter(pk__in=wanted, site__client_id=client_id).values_list(
            "pk", flat=True
        )
    )
    unknown = sorted(wanted - found)
    if unknown:
        raise ValidationError(
            {
                "affected_monitors": _("Not a monitor of this client: %(ids)s.")
                % {"ids": ", ".join(str(pk) for pk in unknown)}
            }
        )
    return found


def update_details(
    incident: Incident,
    user: User,
    *,
    severity: str | None = None,
    root_cause: str | None = None,
    postmortem: str | None = None,
    affected_monitors: Iterable[int] | None = None,
) -> list[str]:
    """Change the given details (None: leave as is); returns the names of those changed.

    Everything is checked before anything is written; a severity change gets its own timeline
    line (it may change who is alerted), the other changes one "details updated" line.
    """
    changes: dict[str, Any] = {}
    if severity is not None and severity != incident.severity:
        if severity not in Severity.values:
            raise ValidationError(
                {"severity": _("Not a severity: %(value)s.") % {"value": severity}}
            )
        changes["severity"] = severity
    for field, value, limit in (
        ("root_cause", root_cause, ROOT_CAUSE_MAX_CHARS),
        ("postmortem", postmortem, POSTMORTEM_MAX_CHARS),
    ):
        if value is not None:
            text = _checked_text(value, field, limit)
            if text != getattr(incident, field):
                changes[field] = text
    monitors = None
    if affected_monitors is not None:
        monitors = _affected(incident, affected_monitors)
        if monitors != set(incident.affected_monitors.values_list("pk", flat=True)):
            changes["affected_monitors"] = sorted(monitors)
    if changes:
        _write_details(incident, user, changes, monitors)
    return sorted(changes)


def _write_details(
    incident: Incident, user: User, changes: dict[str, Any], monitors: set[int] | None
) -> None:
    now = timezone.now()
    old_severity = incident.severity
    with transaction.atomic():
        fields = [f for f in changes if f != "affected_monitors"]
        for field in fields:
            setattr(incident, field, changes[field])
        if fields:
            incident.save(update_fields=fields)
        if monitors is not None and "affected_monitors" in changes:
            incident.affected_monitors.set(monitors)
        with translation.override(_language(incident)):
            if "severity" in changes:
                IncidentEvent.objects.create(
                    incident=incident,
                    at=now,
                    kind=EventKind.SEVERITY_CHANGED,
                    actor=user,
                    message=_("From %(old)s to %(new)s.")
                    % {
                        "old": Severity(old_severity).label,
                        "new": Severity(changes["severity"]).label,
                    },
                    details={"from": old_severity, "to": changes["severity"]},
                )
                if incident.state == IncidentState.OPEN:
                    # Channels the new severity routes to are told it opened (the others
                    # were already: the same keys write nothing).
                    enqueue_notifications(incident, EventKind.OPENED, now=now)
            others = sorted(set(changes) - {"severity"})
            if others:
                # The fields' own (lazy) names: each reads in the language of the timeline's reader.
                labels = messages.joined(
                    [getattr(Incident._meta.get_field(f), "verbose_name", f) for f in others], ", "
                )
                IncidentEvent.objects.create(
                    incident=incident,
                    at=now,
                    kind=EventKind.UPDATED,
                    actor=user,
                    message=_("Changed: %(fields)s.") % {"fields": labels},
                    details={"fields": others},
                )


def timeline_for(scope: Scope, incident: Incident) -> list[IncidentEvent]:
    """The incident's timeline as this user may see it, oldest first.

    Agency members see every line. Client users see neither internal lines (notes,
    escalation) nor deliveries to channels that are not their own.
    """
    events = (
        scope.visible(IncidentEvent)
        .filter(incident=incident)
        .select_related("actor")
        .order_by("at", "pk")
    )
    if scope.is_agency:
        return list(events)
    own_channels = set(scope.visible(Channel).values_list("pk", flat=True))
    return [
        event
        for event in events
        if event.kind not in INTERNAL_KINDS
        and (event.kind not in NOTIFICATION_KINDS or event.details.get("channel") in own_channels)
    ]


def affected_monitors(incident: Incident) -> list[Monitor]:
    """The incident's own monitor first, then the others marked as affected, by name."""
    others = incident.affected_monitors.exclude(pk=incident.monitor_id).order_by("name", "pk")
    return [incident.monitor, *others]
