"""A monitor that does not count for the SLA (a broken speed budget, a certificate near its
expiry) makes its site need attention, never "down": the site is up for its visitors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from front.dashboard import site_states
from front.summaries import Status, monitor_status, worst_status
from front.tests.conftest import signed_in
from monitoring.models import CheckKind, Monitor, MonitorState
from tenancy.scoping import scope_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def slow_home(world) -> Monitor:
    Monitor.objects.filter(pk=world.monitor_a.pk).update(state=MonitorState.UP)
    return Monitor.objects.create(
        site=world.site_a,
        name="Home page speed",
        kind=CheckKind.SPEED,
        url="https://a.example/",
        critical=False,
        state=MonitorState.DOWN,
    )


def test_it_calls_a_non_critical_monitor_that_is_down_in_need_of_attention(world, slow_home):
    world.monitor_a.refresh_from_db()
    assert monitor_status(slow_home) == Status.WARNING
    assert worst_status([world.monitor_a, slow_home]) == Status.WARNING
    states, _clients = site_states(scope_for(world.owner))
    assert states[world.site_a.pk] == Status.WARNING


def test_it_keeps_a_site_down_when_a_monitor_that_counts_is_down(world, slow_home):
    Monitor.objects.filter(pk=world.monitor_a.pk).update(state=MonitorState.DOWN)
    world.monitor_a.refresh_from_db()
    assert worst_status([world.monitor_a, slow_home]) == Status.DOWN
    states, _clients = site_states(scope_for(world.owner))
    assert states[world.site_a.pk] == Status.DOWN


@pytest.mark.parametrize("language", ["en", "pl"])
def test_it_shows_the_client_a_site_that_needs_attention_not_one_that_is_down(
    world, slow_home, language
):
    browser = signed_in(world.client_a_user)
    browser.cookies["django_language"] = language
    html = browser.get(reverse("front:site", args=[world.site_a.pk])).content.decode()
    assert "badge--warning" in html and "badge--down" not in html
    assert ("Wymaga uwagi" if language == "pl" else "Needs attention") in html
