"""The dashboard and the SLA overview run as many queries for a large portfolio as for a
small one (their SLA figures stored by ``sla.standings``, brought up to date beforehand as the
alert sender's loop does)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from front.dashboard import PAGE_SIZE
from front.tests.conftest import signed_in
from incidents.models import Incident
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from sites.models import Site
from sla.models import CarePlan, ClientPlan
from sla.standings import refresh_all
from tenancy.models import Client

NOW = datetime(2026, 10, 11, 12, tzinfo=UTC)
SINCE = NOW - timedelta(days=40)
PAGES = ["/", "/sla/"]


def watched(site: Site, name: str, *, down_now: bool = False) -> Monitor:
    """A monitor up since ``SINCE`` with two outages this month; down now if asked, with
    its open incident."""
    monitor = Monitor.objects.create(
        site=site, name=name, kind=CheckKind.HTTP, url=f"https://{site.slug}.example/{name}"
    )
    state = MonitorState.DOWN if down_now else MonitorState.UP
    Monitor.objects.filter(pk=monitor.pk).update(created_at=SINCE, state=state)
    moments = [SINCE, NOW - timedelta(days=5), NOW - timedelta(days=5, minutes=-20)]
    states = [MonitorState.UNKNOWN, MonitorState.UP, MonitorState.DOWN, MonitorState.UP]
    if down_now:
        moments.append(NOW - timedelta(minutes=30))
        states.append(MonitorState.DOWN)
    StateChange.objects.bulk_create(
        StateChange(monitor=monitor, at=at, from_state=old, to_state=new)
        for at, old, new in zip(moments, states, states[1:], strict=False)
    )
    if down_now:
        Incident.objects.create(monitor=monitor, opened_at=NOW - timedelta(minutes=30))
    return monitor


def portfolio(world, *, clients: int, sites: int, monitors: int) -> None:
    """``clients`` more clients on a plan, each with sites and monitors, one site down."""
    plan = CarePlan.objects.create(
        organization=world.agency,
        name="Care",
        slug=f"care-{Client.objects.count()}",
        availability_target=Decimal("99.9"),
        time_zone="UTC",
        monthly_fee=Decimal(100),
        currency="PLN",
    )
    first = Client.objects.count()
    for c in range(first, first + clients):
        client = Client.objects.create(
            organization=world.agency, name=f"Bulk {c:03}", slug=f"bulk-{c}"
        )
        ClientPlan.objects.create(client=client, plan=plan)
        for s in range(sites):
            site = Site.objects.create(client=client, name=f"Site {c}-{s}", slug=f"s-{c}-{s}")
            for m in range(monitors):
                watched(site, f"m{m}", down_now=(s == 0 and m == 0))


def queries_of(user, url: str) -> int:
    browser = signed_in(user)
    browser.get(url)  # a first request: the session, and anything stored on first use
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", PAGES)
@time_machine.travel(NOW, tick=False)
def test_it_runs_as_many_queries_for_many_clients_as_for_a_few(
    world, url, django_assert_num_queries
):
    watched(world.site_b, "Shop B checkout", down_now=True)
    portfolio(world, clients=1, sites=1, monitors=1)
    refresh_all(now=NOW)
    few = queries_of(world.owner, url)
    portfolio(world, clients=30, sites=3, monitors=3)  # more than a page of clients
    refresh_all(now=NOW)
    browser = signed_in(world.owner)
    browser.get(url)
    with django_assert_num_queries(few):
        response = browser.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "as of 12:00" in html or "as of 14:00" in html  # UTC, or the agency's Warsaw


@time_machine.travel(NOW, tick=False)
def test_it_shows_one_page_of_clients_and_only_the_sites_needing_attention(world):
    portfolio(world, clients=30, sites=3, monitors=2)
    refresh_all(now=NOW)
    browser = signed_in(world.owner)
    html = browser.get("/").content.decode()
    clients = html.split('id="clients"')[1].split("</section>")[0]
    assert clients.count("<tr") == 1 + PAGE_SIZE  # the heading and a page
    assert "Page 1 of 2" in clients
    # Each bulk client has one site down (listed) and two up (on the client's page only).
    assert html.count("Site 2-0<") == 1 and "Site 2-1<" not in html
    assert "20 more sites need attention" in html
    # Problems first: the 30 clients with a site down, then Client A and B (all up).
    second = browser.get("/?page=2").content.decode()
    assert "Client A" in second and "Client B" in second
