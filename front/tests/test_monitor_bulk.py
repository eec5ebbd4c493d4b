"""Bulk actions of the monitors list: agency members only, on monitors of their scope only,
each in one transaction, with a message saying what was done."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from conftest import make_user
from front.tests.conftest import signed_in
from incidents.escalation import policy_for
from incidents.models import EscalationPolicy, Incident, PolicyAssignment
from monitoring.models import (
    CheckKind,
    CheckResult,
    Monitor,
    PauseAction,
    PauseEvent,
    PauseVia,
    StateChange,
    Tag,
)
from sites.models import Site
from tenancy.models import Client, Organization, Role

BULK = reverse("front:monitors_bulk")
T0 = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
def shop_monitors(world) -> list[Monitor]:
    return [
        Monitor.objects.create(site=world.site_a, name=f"Shop {i}", kind=CheckKind.HTTP,
                               url=f"https://a.example/{i}")
        for i in range(3)
    ]  # fmt: skip


def post(user, action: str, monitors, **extra):
    data = {"action": action, "monitor": [m.pk for m in monitors], "back": "?q=shop", **extra}
    return signed_in(user).post(BULK, data)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_pauses_the_chosen_monitors_recording_who_and_when(world, shop_monitors):
    with time_machine.travel(T0, tick=False):
        response = post(world.engineer, "pause", shop_monitors)
    assert response.status_code == 302
    assert response["Location"] == reverse("front:monitors") + "?q=shop"
    assert texts(response) == ["Paused 3 monitors."]
    assert not Monitor.objects.filter(pk__in=[m.pk for m in shop_monitors], enabled=True).exists()
    events = PauseEvent.objects.filter(monitor__in=shop_monitors)
    assert sorted((e.monitor_id, e.action, e.via, e.user_id, e.at) for e in events) == [
        (m.pk, PauseAction.PAUSED, PauseVia.WEB, world.engineer.pk, T0) for m in shop_monitors
    ]
    assert world.monitor_a.pause_events.count() == 0


def test_it_resumes_and_counts_only_the_monitors_it_changed(world, shop_monitors):
    post(world.owner, "pause", shop_monitors[:2])
    response = post(world.owner, "resume", shop_monitors)
    assert texts(response) == ["Resumed 2 monitors."]
    assert Monitor.objects.filter(pk__in=[m.pk for m in shop_monitors], enabled=True).count() == 3
    resumed = PauseEvent.objects.filter(action=PauseAction.RESUMED, via=PauseVia.WEB)
    assert resumed.count() == 2


def test_it_refuses_a_monitor_of_another_agency_and_changes_nothing(world, shop_monitors):
    other = Organization.objects.create(name="Other", slug="other")
    client = Client.objects.create(organization=other, name="Foreign", slug="foreign")
    site = Site.objects.create(client=client, name="Foreign shop", slug="f")
    foreign = Monitor.objects.create(
        site=site, name="Theirs", kind=CheckKind.HTTP, url="https://f.example/"
    )
    response = post(world.owner, "pause", [*shop_monitors, foreign])
    assert texts(response) == [
        "Some of the chosen monitors do not exist (any more): nothing was changed."
    ]
    assert Monitor.objects.filter(enabled=False).count() == 0
    assert PauseEvent.objects.count() == 0
    response = post(world.owner, "delete", [foreign], confirm="yes")
    assert Monitor.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_gives_client_users_no_bulk_actions(world, persona):
    response = post(getattr(world, persona), "pause", [world.monitor_a])
    assert response.status_code == 404
    assert Monitor.objects.get(pk=world.monitor_a.pk).enabled


def test_it_needs_the_csrf_token(world):
    browser = signed_in(world.owner)
    browser.handler.enforce_csrf_checks = True
    response = browser.post(BULK, {"action": "pause", "monitor": [world.monitor_a.pk]})
    assert response.status_code == 403
    assert Monitor.objects.get(pk=world.monitor_a.pk).enabled


def test_it_asks_before_deleting_and_says_what_goes_with_the_monitors(world, shop_monitors):
    doomed = shop_monitors[:2]
    CheckResult.objects.create(monitor=doomed[0], checked_at=T0, ok=True)
    CheckResult.objects.create(monitor=doomed[1], checked_at=T0, ok=False)
    StateChange.objects.create(monitor=doomed[1], at=T0, from_state="up", to_state="down")
    Incident.objects.create(monitor=doomed[1], opened_at=T0)
    page = post(world.owner, "delete", doomed)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Delete 2 monitors?" in html
    assert "2 check results" in html and "1 incident" in html and "1 state change" in html
    assert Monitor.objects.filter(pk__in=[m.pk for m in doomed]).count() == 2
    response = post(world.owner, "delete", doomed, confirm="yes")
    assert texts(response) == ["Deleted 2 monitors."]
    assert not Monitor.objects.filter(pk__in=[m.pk for m in doomed]).exists()
    assert Monitor.objects.filter(pk=shop_monitors[2].pk).exists()
    assert Incident.objects.count() == 0


def test_it_adds_and_removes_a_tag(world, shop_monitors):
    tag = Tag.objects.create(organization=world.agency, name="Sklepy")
    shop_monitors[0].tags.add(tag)
    response = post(world.engineer, "add_tag", shop_monitors, tag=tag.pk)
    assert texts(response) == ["Tagged 2 monitors with Sklepy."]
    assert tag.monitors.count() == 3
    response = post(world.engineer, "remove_tag", shop_monitors[:2], tag=tag.pk)
    assert texts(response) == ["Removed tag Sklepy from 2 monitors."]
    assert list(tag.monitors.all()) == [shop_monitors[2]]


def test_it_refuses_another_agencys_tag(world, shop_monitors):
    other = Organization.objects.create(name="Other", slug="other")
    foreign = Tag.objects.create(organization=other, name="Theirs")
    response = post(world.owner, "add_tag", shop_monitors, tag=foreign.pk)
    assert foreign.monitors.count() == 0
    assert texts(response) and "Select a valid choice" in texts(response)[0]


def test_it_sets_the_interval_through_the_monitor_validator(world, shop_monitors, settings):
    settings.SITECARE_MIN_INTERVAL_SECONDS = 30
    response = post(world.owner, "set_interval", shop_monitors, interval="20")
    assert texts(response) == [
        f"Shop A · Shop {i}: interval: must be at least 30 seconds" for i in range(3)
    ]
    assert {m.interval_s for m in Monitor.objects.filter(pk__in=[m.pk for m in shop_monitors])} == {
        60
    }
    # A timeout longer than the new interval is refused as the API refuses it; nothing changes.
    Monitor.objects.filter(pk=shop_monitors[0].pk).update(timeout_s=40)
    response = post(world.owner, "set_interval", shop_monitors, interval="35")
    assert texts(response) == ["Shop A · Shop 0: timeout: must not exceed the interval (35 s)"]
    assert {m.interval_s for m in Monitor.objects.filter(pk__in=[m.pk for m in shop_monitors])} == {
        60
    }
    response = post(world.owner, "set_interval", shop_monitors, interval="300")
    assert texts(response) == ["Set the interval of 3 monitors."]
    assert {m.interval_s for m in Monitor.objects.filter(pk__in=[m.pk for m in shop_monitors])} == {
        300
    }


def test_it_routes_the_monitors_to_an_escalation_policy_and_back(world, shop_monitors):
    site_policy = EscalationPolicy.objects.create(organization=world.agency, name="Shop A nights")
    PolicyAssignment.objects.create(policy=site_policy, site=world.site_a)
    vip = EscalationPolicy.objects.create(organization=world.agency, name="VIP")
    response = post(world.owner, "set_routing", shop_monitors[:2], policy=str(vip.pk))
    assert texts(response) == ["Routed 2 monitors to escalation policy VIP."]
    assert [policy_for(m) for m in shop_monitors] == [vip, vip, site_policy]
    response = post(world.owner, "set_routing", shop_monitors[:1], policy="inherit")
    assert texts(response) == ["1 monitor now follows its site's or client's escalation policy."]
    assert [policy_for(m) for m in shop_monitors] == [site_policy, vip, site_policy]


def test_it_refuses_another_agencys_escalation_policy(world, shop_monitors):
    other = Organization.objects.create(name="Other", slug="other")
    theirs = EscalationPolicy.objects.create(organization=other, name="Theirs")
    post(world.owner, "set_routing", shop_monitors, policy=str(theirs.pk))
    assert not PolicyAssignment.objects.exists()


def test_it_says_what_is_missing(world, shop_monitors):
    assert texts(post(world.owner, "pause", [])) == ["Choose at least one monitor."]
    assert texts(post(world.owner, "add_tag", shop_monitors)) == ["Choose a tag."]
    assert texts(post(world.owner, "set_interval", shop_monitors)) == [
        "Give the interval in seconds."
    ]


def test_it_acts_for_an_engineer_of_the_same_agency_only(world, shop_monitors):
    stranger = make_user("stranger", Organization.objects.create(name="O", slug="o"), Role.OWNER)
    post(stranger, "pause", shop_monitors)
    assert Monitor.objects.filter(enabled=False).count() == 0
