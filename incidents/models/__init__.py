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

__all__ = [
    "Channel",
    "EventKind",
    "Incident",
    "IncidentEvent",
    "IncidentState",
    "Notification",
    "NotificationState",
]
