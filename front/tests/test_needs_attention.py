"""A monitor that does not count for the SLA (a broken speed budget, a certificate near its
expiry) makes its site need attention, never "down": the site is up for its visitors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from front.dashboard import site_states
from front.summaries import Status, monitor_status, worst_status
from front.tests.conftest import signed_in
from incidents.logic import open_incident
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
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


def test_it_says_how_long_a_slow_site_has_needed_attention_not_that_it_is_up_again(
    world, slow_home
):
    change = StateChange.objects.create(
        monitor=slow_home,
        at=timezone.now() - timedelta(minutes=5),
        from_state=MonitorState.UP,
        to_state=MonitorState.DOWN,
        failure_class=FailureClass.BUDGET_EXCEEDED,
    )
    open_incident(slow_home, change, detected_at=change.at)
    html = signed_in(world.owner).get(reverse("front:dashboard")).content.decode()
    assert "up again for" not in html
    assert "for 5\xa0minutes" in html


def test_it_leaves_browser_figures_out_of_a_sites_last_response(world, slow_home):
    Monitor.objects.filter(pk=world.monitor_a.pk).update(last_response_ms=120.0)
    Monitor.objects.filter(pk=slow_home.pk).update(last_response_ms=9236.0)  # a median LCP
    page = reverse("front:client", args=[world.client_a.pk])
    html = signed_in(world.owner).get(page).content.decode()
    assert "9.2 s" not in html and "9,2 s" not in html
    assert "120 ms" in html
