from datetime import UTC, datetime

from django.test import Client as Browser

from incidents.logic import open_incident, render_message
from incidents.models import Channel, EventKind, Incident, Notification
from monitoring.models import MonitorState, StateChange


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


def test_it_puts_the_one_click_ack_link_in_agency_alerts_only(world):
    Channel.objects.create(organization=world.agency, name="Ops", url="json://127.0.0.1:9/")
    change = StateChange.objects.create(
        monitor=world.monitor_a,
        at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        from_state=MonitorState.UP,
        to_state=MonitorState.DOWN,
        failure_class="http_status",
    )
    incident = open_incident(world.monitor_a, change, detected_at=change.at)
    bodies = dict(
        Notification.objects.filter(incident=incident).values_list("channel__name", "body")
    )
    assert "Acknowledge: " not in bodies["A hook"]  # the client's channel: clients do not ack
    [link] = [line for line in bodies["Ops"].splitlines() if line.startswith("Acknowledge: ")]
    path = link.removeprefix("Acknowledge: ").split("://", 1)[1].split("/", 1)[1]
    page = Browser().get("/" + path)
    assert page.status_code == 200  # the confirm page of this very incident
    assert f"#{incident.pk}" in page.content.decode()
