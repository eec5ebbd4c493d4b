"""The signed one-click acknowledgement link: a GET only asks, a POST acknowledges; anything
forged, tampered, expired, swapped for another incident or foreign is a 404 changing nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from django.core import signing
from django.test import Client as HttpClient

from front.tests.conftest import signed_in
from incidents.ack import ACK_SALT, ack_token, ack_url, verify
from incidents.models import (
    Channel,
    EscalationRun,
    EscalationStop,
    EventKind,
    Incident,
    IncidentEvent,
)
from incidents.oncall_feed import FEED_SALT
from incidents.tests.escalation_world import T0, go_down, post_ack_link
from tenancy.models import Client, Organization


@pytest.fixture
def incident_a(world):
    with time_machine.travel(T0, tick=False):
        return go_down(world.monitor_a, T0)


@pytest.fixture
def incident_b(world):
    with time_machine.travel(T0, tick=False):
        return go_down(world.monitor_b, T0)


@pytest.fixture
def engineers_phone(world):
    return Channel.objects.create(
        organization=world.agency, user=world.engineer, name="Eng phone", url="json://x.example/"
    )


def link_path(incident: Incident, channel: Channel | None = None) -> str:
    return urlparse(ack_url(incident, channel)).path


def assert_untouched(*incidents: Incident) -> None:
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.acknowledged_at is None
        assert not IncidentEvent.objects.filter(
            incident=incident, kind=EventKind.ACKNOWLEDGED
        ).exists()


def test_it_asks_on_get_and_acknowledges_only_on_post(world, incident_a, engineers_phone):
    path = link_path(incident_a, engineers_phone)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        page = HttpClient().get(path)
        assert page.status_code == 200
        assert b"Acknowledge" in page.content
        assert page["Referrer-Policy"] == "no-referrer"
        assert_untouched(incident_a)  # a mail scanner fetching the link changes nothing

        post_ack_link(path)

    incident_a.refresh_from_db()
    assert incident_a.acknowledged_at == T0 + timedelta(minutes=2)
    assert incident_a.acknowledged_by == world.engineer  # whom the link was sent to
    event = IncidentEvent.objects.get(incident=incident_a, kind=EventKind.ACKNOWLEDGED)
    assert event.actor == world.engineer
    assert event.details == {"via": "link", "channel": engineers_phone.pk}
    assert "Eng phone" in event.message


def test_it_says_so_when_already_acknowledged_or_resolved(world, incident_a):
    path = link_path(incident_a)
    post_ack_link(path)
    again = HttpClient().post(path)
    assert again.status_code == 200
    assert b"already acknowledged" in again.content
    assert IncidentEvent.objects.filter(kind=EventKind.ACKNOWLEDGED).count() == 1

    Incident.objects.filter(pk=incident_a.pk).update(state="resolved", acknowledged_at=None)
    IncidentEvent.objects.filter(kind=EventKind.ACKNOWLEDGED).delete()
    late = HttpClient().post(path)
    assert b"already resolved" in late.content
    assert_untouched(incident_a)


def test_it_names_the_signed_in_agency_member_who_presses_it(world, incident_a, engineers_phone):
    owner = signed_in(world.owner)
    owner.post(link_path(incident_a, engineers_phone))
    incident_a.refresh_from_db()
    assert incident_a.acknowledged_by == world.owner


def test_it_refuses_forged_and_tampered_links(world, incident_a):
    token = ack_token(incident_a)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    forged = [
        "nonsense",
        "",
        flipped,
        signing.dumps({"i": incident_a.pk}, salt=ACK_SALT),  # no agency, no nonce
        signing.dumps(  # the right shape signed for another purpose
            {"i": incident_a.pk, "o": world.agency.pk, "n": incident_a.ack_nonce}, salt=FEED_SALT
        ),
        signing.dumps(["i", incident_a.pk], salt=ACK_SALT),
    ]
    for bad in forged:
        for method in ("get", "post"):
            response = getattr(HttpClient(), method)(f"/ack/{bad}/")
            assert response.status_code == 404, (bad, method)
    assert_untouched(incident_a)


def test_it_refuses_an_expired_link(world, incident_a, settings):
    settings.SITECARE_ACK_LINK_HOURS = 24
    with time_machine.travel(T0, tick=False):
        path = link_path(incident_a)
    with time_machine.travel(T0 + timedelta(hours=23, minutes=59), tick=False):
        assert HttpClient().get(path).status_code == 200
    with time_machine.travel(T0 + timedelta(hours=24, seconds=1), tick=False):
        assert HttpClient().post(path).status_code == 404
    assert_untouched(incident_a)


def test_it_cannot_touch_client_bs_incident_with_a_link_of_client_a(world, incident_a, incident_b):
    """Another incident's id in the payload, validly signed even, finds nothing."""
    swapped = [
        # A's nonce with B's id: the nonce is per incident.
        signing.dumps(
            {"i": incident_b.pk, "o": world.agency.pk, "n": incident_a.ack_nonce}, salt=ACK_SALT
        ),
        # A's token with its id edited: the signature breaks.
        ack_token(incident_a).replace(str(incident_a.pk), str(incident_b.pk), 1),
    ]
    for token in swapped:
        assert HttpClient().post(f"/ack/{token}/").status_code == 404
    assert verify(ack_token(incident_a)).incident == incident_a  # type: ignore[union-attr]
    assert_untouched(incident_a, incident_b)


def test_it_refuses_a_link_of_another_agency(world, incident_a):
    other = Organization.objects.create(name="Other", slug="other")
    Client.objects.create(organization=other, name="X", slug="x")
    token = signing.dumps(
        {"i": incident_a.pk, "o": other.pk, "n": incident_a.ack_nonce}, salt=ACK_SALT
    )
    assert HttpClient().post(f"/ack/{token}/").status_code == 404
    assert_untouched(incident_a)


def test_it_refuses_the_link_of_an_incident_whose_id_was_reused(world, incident_a):
    path = link_path(incident_a)
    Incident.objects.filter(pk=incident_a.pk).update(ack_nonce="a-new-incident-same-id")
    assert HttpClient().post(path).status_code == 404
    assert_untouched(incident_a)


def test_it_stops_the_escalation_when_acknowledged_by_link(world, incident_a):
    EscalationRun.objects.create(
        incident=incident_a, policy_name="Ops", steps=[], started_at=T0, next_at=T0
    )
    post_ack_link(link_path(incident_a))
    run = EscalationRun.objects.get(incident=incident_a)
    assert run.stop_reason == EscalationStop.ACKNOWLEDGED
    assert run.next_at is None


def test_it_gives_no_link_to_a_clients_own_channel(world, incident_a, engineers_phone):
    a_hook = Channel.objects.get(name="A hook")
    agency_room = Channel.objects.create(
        organization=world.agency, name="Ops room", url="json://x.example/"
    )
    assert ack_url(incident_a, a_hook) == ""
    assert "/ack/" in ack_url(incident_a, agency_room)
    assert "/ack/" in ack_url(incident_a, engineers_phone)
