"""Fixtures for the web UI tests: an incident with a timeline and results for client A."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.utils import timezone

from incidents.models import EventKind, Incident, IncidentEvent, IncidentState
from monitoring.failures import FailureClass
from monitoring.models import CheckResult, MonitorState, StateChange
from monitoring.rollups import add_to_rollups

PASSWORD = "correct-horse-battery-9"


def signed_in(user) -> HttpClient:
    browser = HttpClient()
    assert browser.login(username=user.username, password=PASSWORD)
    return browser


def signed_in_superuser(username: str = "root") -> HttpClient:
    """A browser of a new superuser (the operator, in the admin)."""
    return signed_in(User.objects.create_superuser(username, f"{username}@example.com", PASSWORD))


@pytest.fixture
def incident_a(world):
    """A resolved 4 min 12 s outage of monitor A an hour ago, with results and changes."""
    now = timezone.now()
    start = now - timedelta(hours=1)
    end = start + timedelta(minutes=4, seconds=12)
    monitor = world.monitor_a
    StateChange.objects.create(
        monitor=monitor, at=now - timedelta(days=2), from_state="unknown", to_state="up"
    )
    StateChange.objects.create(
        monitor=monitor,
        at=start,
        from_state=MonitorState.UP,
        to_state=MonitorState.DOWN,
        failure_class=FailureClass.TIMEOUT,
    )
    StateChange.objects.create(
        monitor=monitor, at=end, from_state=MonitorState.DOWN, to_state=MonitorState.UP
    )
    monitor.state = MonitorState.UP
    monitor.last_checked_at = now
    monitor.last_response_ms = 123.0
    monitor.save()
    results = CheckResult.objects.bulk_create(
        [
            CheckResult(
                monitor=monitor,
                checked_at=now - timedelta(minutes=5 * i),
                ok=i not in (12, 13),
                response_ms=100.0 + i,
                failure_class="" if i not in (12, 13) else FailureClass.TIMEOUT,
            )
            for i in range(200)
        ]
    )
    add_to_rollups(results)  # as record_results does: the charts read the rollups
    incident = Incident.objects.create(
        monitor=monitor,
        state=IncidentState.RESOLVED,
        opened_at=start,
        resolved_at=end,
        failure_class=FailureClass.TIMEOUT,
        message="no answer within 10 s",
    )
    IncidentEvent.objects.create(incident=incident, at=start, kind=EventKind.OPENED)
    IncidentEvent.objects.create(incident=incident, at=end, kind=EventKind.RESOLVED)
    return incident
