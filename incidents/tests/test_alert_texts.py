from datetime import UTC, datetime

from incidents.logic import render_message
from incidents.models import EventKind, Incident


def make_incident(world, zone: str) -> Incident:
    world.site_a.time_zone = zone
    world.site_a.save()
    return Incident.objects.create(
        monitor=world.monitor_a,
        opened_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        failure_class="http_status",
        message="HTTP 500, expected 200-399",
    )


def test_it_dates_alerts_in_the_site_time_zone_and_names_it(world):
    incident = make_incident(world, "America/New_York")
    title, body = render_message(incident, EventKind.OPENED, "key-1")
    assert title == "[DOWN] Shop A: Home"
    assert "2026-07-01 06:00:00 (America/New_York)" in body
    assert "Reference: key-1" in body


def test_it_writes_alerts_in_the_agency_language(world):
    world.agency.language = "pl"
    world.agency.save()
    incident = make_incident(world, "Europe/Warsaw")
    title, body = render_message(incident, EventKind.OPENED, "key-2")
    assert title.startswith("[NIEDOSTĘPNY]")
    assert "2026-07-01 12:00:00 (Europe/Warsaw)" in body
    assert "Przyczyna: " in body
