"""Routing: agency-wide, per client, per site and per severity; never personal channels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from incidents.actions import resolve_manually, update_details
from incidents.logic import channels_for, enqueue_notifications
from incidents.models import Channel, EventKind, Incident, Notification
from incidents.models.core import Severity
from sites.models import Site

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def routes(world):
    """Channels at every scope and severity of the agency (besides A hook and B hook)."""
    site_a2 = Site.objects.create(client=world.client_a, name="Blog A", slug="blog-a")
    make = Channel.objects.create
    make(organization=world.agency, name="Agency all", url="json://127.0.0.1:9/")
    make(
        organization=world.agency,
        name="Agency critical",
        url="json://127.0.0.1:9/",
        min_severity=Severity.CRITICAL,
    )
    make(organization=world.agency, site=world.site_a, client=world.client_a, name="Shop A only")
    make(organization=world.agency, site=site_a2, client=world.client_a, name="Blog A only")
    make(
        organization=world.agency,
        client=world.client_a,
        name="A major up",
        min_severity=Severity.MAJOR,
    )
    make(organization=world.agency, name="Owner's phone", user=world.owner)
    make(organization=world.agency, name="Switched off", enabled=False)
    return site_a2


def names(incident: Incident) -> set[str]:
    return {channel.name for channel in channels_for(incident)}


def test_it_routes_by_scope(world, routes):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=T0)
    assert names(incident) == {"Agency all", "A hook", "Shop A only", "A major up"}
    other = Incident.objects.create(monitor=world.monitor_b, opened_at=T0)
    assert names(other) == {"Agency all", "B hook"}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.MINOR, {"Agency all", "A hook", "Shop A only"}),
        (Severity.MAJOR, {"Agency all", "A hook", "Shop A only", "A major up"}),
        (
            Severity.CRITICAL,
            {"Agency all", "Agency critical", "A hook", "Shop A only", "A major up"},
        ),
    ],
)
def test_it_routes_by_severity(world, routes, severity, expected):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=T0, severity=severity)
    assert names(incident) == expected


def test_it_writes_one_outbox_row_per_routed_channel(world, routes):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=T0)
    enqueue_notifications(incident, EventKind.OPENED, now=T0)
    enqueue_notifications(incident, EventKind.OPENED, now=T0)  # the same keys: no duplicates
    rows = Notification.objects.filter(incident=incident)
    assert {row.channel.name for row in rows} == names(incident)
    assert rows.count() == len(names(incident))


def test_it_gives_a_site_channel_its_sites_client(world, routes):
    channel = Channel(organization=world.agency, name="Shop", url="json://x.example/")
    channel.site = world.site_a
    channel.full_clean()
    assert channel.client_id == world.client_a.pk


def test_it_refuses_a_site_of_another_client(world, routes):
    channel = Channel(
        organization=world.agency, name="Mixed", url="json://x.example/", client=world.client_b
    )
    channel.site = world.site_a
    with pytest.raises(ValidationError) as refused:
        channel.full_clean()
    assert "site" in refused.value.message_dict


def test_it_tells_a_channel_added_while_an_incident_is_open_nothing_of_its_end(world, routes):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=T0)
    enqueue_notifications(incident, EventKind.OPENED, now=T0)
    make = Channel.objects.create
    make(organization=world.agency, name="Added later", url="json://127.0.0.1:9/")
    enqueue_notifications(incident, EventKind.RESOLVED, now=T0)
    resolved = Notification.objects.filter(incident=incident, event=EventKind.RESOLVED)
    assert "Added later" not in {row.channel.name for row in resolved}
    assert {row.channel.name for row in resolved} == names(incident) - {"Added later"}


def test_it_tells_the_channels_a_raised_severity_routes_to_that_the_incident_opened(world, routes):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=T0)
    enqueue_notifications(incident, EventKind.OPENED, now=T0)
    update_details(incident, world.owner, severity=Severity.CRITICAL)
    opened = Notification.objects.filter(incident=incident, event=EventKind.OPENED)
    assert {row.channel.name for row in opened} == names(incident)
    assert opened.filter(channel__name="Agency critical").count() == 1
    assert opened.count() == len(names(incident))  # the others were told once only
    resolve_manually(incident, world.owner)
    resolved = Notification.objects.filter(incident=incident, event=EventKind.RESOLVED)
    assert {row.channel.name for row in resolved} == names(incident)
