"""Response and resolution times of a client's incidents, in the plan's calendar time.

An incident's priority follows its severity (critical → P1, major → P2, minor → P3; P4 is for
support requests). *Response* runs from the opening to the acknowledgement; an incident that
resolved before anyone acknowledged it was answered by its resolution. *Resolution* runs to
the resolution. Both count only the plan's calendar time (a business-hours plan's clock stops
at night, on weekends and on holidays). An incident still open has run until now: it is a
miss as soon as that passes the target, and not (yet) one before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.models import Incident
from incidents.models.core import Severity
from sitecare.lib.intervals import total
from sla.calendar import Calendar
from sla.models import CarePlan, Priority
from tenancy.models import Client

SEVERITY_PRIORITY = {
    Severity.CRITICAL.value: Priority.P1,
    Severity.MAJOR.value: Priority.P2,
    Severity.MINOR.value: Priority.P3,
}


@dataclass(frozen=True)
class IncidentTimes:
    incident_id: int
    what: str  # "site · monitor"
    priority: Priority
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    response: timedelta
    resolution: timedelta
    response_target: timedelta | None
    resolution_target: timedelta | None

    @property
    def response_missed(self) -> bool:
        return self.response_target is not None and self.response > self.response_target

    @property
    def resolution_missed(self) -> bool:
        return self.resolution_target is not None and self.resolution > self.resolution_target


def calendar_time(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """How much of ``[start, end)`` the calendar counts."""
    if end <= start:
        return timedelta(0)
    return total(calendar.in_scope(start, end))


def incidents_opened(client: Client, start: datetime, end: datetime) -> list[Incident]:
    """The client's incidents opened in ``[start, end)``, oldest first."""
    return list(
        Incident.objects.filter(
            monitor__site__client=client, opened_at__gte=start, opened_at__lt=end
        )
        .select_related("monitor__site")
        .order_by("opened_at", "pk")
    )


def incident_times(
    incidents: Sequence[Incident], plan: CarePlan, *, now: datetime
) -> list[IncidentTimes]:
    """Each incident's response and resolution time against the plan's targets."""
    calendar = plan.calendar()
    found = []
    for incident in incidents:
        priority = SEVERITY_PRIORITY.get(incident.severity, Priority.P2)
        response_target, resolution_target = plan.targets(priority)
        resolved = incident.resolved_at
        answered = incident.acknowledged_at or resolved or now
        if resolved is not None and answered > resolved:
            answered = resolved
        found.append(
            IncidentTimes(
                incident_id=incident.pk,
                what=f"{incident.monitor.site.name} · {incident.monitor.name}",
                priority=priority,
                opened_at=incident.opened_at,
                acknowledged_at=incident.acknowledged_at,
                resolved_at=resolved,
                response=calendar_time(calendar, incident.opened_at, answered),
                resolution=calendar_time(calendar, incident.opened_at, resolved or now),
                response_target=response_target,
                resolution_target=resolution_target,
            )
        )
    return found
