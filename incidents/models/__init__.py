"""Incidents' models, one module per part of incident response (a package, so each part stays
small): ``core`` holds incidents, their events, channels and the notification outbox."""

from incidents.models.core import (
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
    NotificationState,
)
from incidents.models.escalation import (
    EscalationPolicy,
    EscalationRun,
    EscalationStep,
    EscalationStop,
    PolicyAssignment,
)
from incidents.models.maintenance import HeldOutage, MaintenanceWindow
from incidents.models.oncall import (
    OnCallOverride,
    OnCallSchedule,
    Rotation,
    RotationParticipant,
    Weekday,
)
from incidents.models.statuspage import (
    PublicUpdate,
    StatusComponent,
    StatusEmail,
    StatusEmailKind,
    StatusEmailState,
    StatusPage,
    StatusSubscriber,
    UpdateStatus,
)

__all__ = [
    "Channel",
    "EscalationPolicy",
    "EscalationRun",
    "EscalationStep",
    "EscalationStop",
    "EventKind",
    "HeldOutage",
    "Incident",
    "IncidentEvent",
    "IncidentState",
    "MaintenanceWindow",
    "Notification",
    "NotificationState",
    "OnCallOverride",
    "OnCallSchedule",
    "PolicyAssignment",
    "PublicUpdate",
    "Rotation",
    "RotationParticipant",
    "StatusComponent",
    "StatusEmail",
    "StatusEmailKind",
    "StatusEmailState",
    "StatusPage",
    "StatusSubscriber",
    "UpdateStatus",
    "Weekday",
]
