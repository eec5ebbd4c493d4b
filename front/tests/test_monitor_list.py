"""The monitors list: scoped to the user, searched, filtered, sorted and paged by GET
parameters, in a constant number of queries whatever the number of monitors."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from front.tests.conftest import signed_in
from monitoring.models import CheckKind, Monitor, MonitorState, Tag, TagColour
from sites.models import Site
from tenancy.models import Client, Organization, Role

URL = reverse("front:monitors")


def names(response) -> list[str]:
    """The monitor names of the page's rows, in order."""
    return [row.monitor.name for row in response.context["rows"]]


def add_monitors(site: Site, count: int, prefix: str = "Check", **values) -> list[Monitor]:
    return Monitor.objects.bulk_create(
        [
            Monitor(site=site, name=f"{prefix} {i:03d}", kind=CheckKind.HTTP,
                    url=f"https://{prefix.lower()}{i}.example/", **values)
            for i in range(count)
        ]
    )  # fmt: skip


def test_it_shows_a_client_user_only_their_clients_monitors(world):
    page = signed_in(world.client_a_user).get(URL)
    assert page.status_code == 200
    assert [row.monitor.pk for row in page.context["rows"]] == [world.monitor_a.pk]
    # Naming client B in the filter shows nothing of it, not even its name in the choices.
    page = signed_in(world.client_a_user).get(URL, {"client": world.client_b.pk})
    assert [row.monitor.pk for row in page.context["rows"]] == [world.monitor_a.pk]
    assert "Client B" not in unescape(page.content.decode())
    page = signed_in(world.client_b_user).get(URL)
    assert [row.monitor.pk for row in page.context["rows"]] == [world.monitor_b.pk]


def test_it_gives_client_users_no_checkboxes_and_no_bulk_actions(world):
    html = signed_in(world.client_a_user).get(URL).content.decode()
    assert 'name="monitor"' not in html
    assert 'value="pause"' not in html
    html = signed_in(world.engineer).get(URL).content.decode()
    assert f'name="monitor" value="{world.monitor_a.pk}"' in html
    assert 'value="pause"' in html


def test_it_searches_by_name_address_and_host(world):
    add_monitors(world.site_a, 3, prefix="Checkout")
    Monitor.objects.create(
        site=world.site_a, name="API", kind=CheckKind.TCP, url="db.shop-a.example:5432"
    )
    browser = signed_in(world.owner)
    assert names(browser.get(URL, {"q": "checkout"})) == [
        "Checkout 000",
        "Checkout 001",
        "Checkout 002",
    ]
    assert names(browser.get(URL, {"q": "db.shop-a"})) == ["API"]
    assert names(browser.get(URL, {"q": "checkout 001"})) == ["Checkout 001"]  # every word
    # The site's address finds its monitors (a.example is shop A's host).
    assert set(names(browser.get(URL, {"q": "a.example"}))) >= {"Home", "API"}


def test_it_filters_by_client_site_kind_state_tag_and_paused(world):
    other_site = Site.objects.create(client=world.client_a, name="Blog A", slug="blog-a")
    down = Monitor.objects.create(
        site=other_site,
        name="Blog",
        kind=CheckKind.HTTP,
        url="https://blog.a.example/",
        state=MonitorState.DOWN,
    )
    Monitor.objects.create(
        site=other_site,
        name="DNS",
        kind=CheckKind.DNS,
        url="blog.a.example",
        enabled=False,
        state=MonitorState.UP,
    )
    tag = Tag.objects.create(organization=world.agency, name="WooCommerce", colour=TagColour.PURPLE)
    down.tags.add(tag)
    browser = signed_in(world.owner)
    assert set(names(browser.get(URL, {"client": world.client_a.pk}))) == {"Home", "Blog", "DNS"}
    page = browser.get(URL, {"client": world.client_a.pk, "site": other_site.pk})
    assert set(names(page)) == {"Blog", "DNS"}
    assert names(browser.get(URL, {"kind": "dns"})) == ["DNS"]
    assert names(browser.get(URL, {"state": "down"})) == ["Blog"]
    # A paused monitor is "paused", whatever state it was in when paused.
    assert names(browser.get(URL, {"state": "paused"})) == ["DNS"]
    assert names(browser.get(URL, {"state": "up"})) == []
    assert names(browser.get(URL, {"tag": tag.pk})) == ["Blog"]
    assert names(browser.get(URL, {"paused": "yes"})) == ["DNS"]
    assert sorted(names(browser.get(URL, {"paused": "no"}))) == ["Blog", "Home", "Home"]
    # A bad value is ignored, never an error page.
    assert browser.get(URL, {"state": "sideways", "client": "x", "page": "-4"}).status_code == 200


def test_it_sorts_by_name_state_client_last_check_and_kind(world):
    world.monitor_a.state = MonitorState.UP
    world.monitor_a.save()
    world.monitor_b.state = MonitorState.DOWN
    world.monitor_b.save()
    Monitor.objects.create(site=world.site_a, name="Alpha", kind=CheckKind.TCP, url="a.example:443")
    browser = signed_in(world.owner)
    pks = lambda page: [row.monitor.pk for row in page.context["rows"]]  # noqa: E731
    assert names(browser.get(URL, {"sort": "name"}))[0] == "Alpha"
    assert names(browser.get(URL, {"sort": "-name"}))[-1] == "Alpha"
    assert pks(browser.get(URL, {"sort": "state"}))[0] == world.monitor_b.pk  # down first
    assert pks(browser.get(URL, {"sort": "-client"}))[0] == world.monitor_b.pk  # Client B
    assert names(browser.get(URL, {"sort": "kind"}))[-1] == "Alpha"  # http < tcp
    # By last check: never checked counts as the oldest, first ascending and last descending.
    Monitor.objects.filter(pk=world.monitor_a.pk).update(last_checked_at=timezone.now())
    Monitor.objects.filter(pk=world.monitor_b.pk).update(
        last_checked_at=timezone.now() - timedelta(minutes=5)
    )
    assert names(browser.get(URL, {"sort": "last_check"}))[0] == "Alpha"
    assert pks(browser.get(URL, {"sort": "-last_check"})) == [
        world.monitor_a.pk,
        world.monitor_b.pk,
        Monitor.objects.get(name="Alpha").pk,
    ]


def test_it_pages_by_fifty_keeping_filters_and_sort_in_the_links(world):
    add_monitors(world.site_a, 120)
    browser = signed_in(world.owner)
    first = browser.get(URL, {"q": "check", "sort": "-name"})
    assert len(first.context["rows"]) == 50
    assert names(first)[0] == "Check 119"
    listing = first.context["listing"]
    assert "q=check" in listing.next_url and "sort=-name" in listing.next_url
    third = browser.get(URL + listing.next_url.replace("page=2", "page=3"))
    assert names(third) == [f"Check {i:03d}" for i in range(19, -1, -1)]


def test_it_reads_a_page_in_the_same_number_of_queries_for_10_and_60_monitors(world):
    """No query per row: tags, client, site and state come with the page."""
    tags = [Tag.objects.create(organization=world.agency, name=f"t{i}") for i in range(3)]
    browser = signed_in(world.owner)

    def queries_for(count: int) -> int:
        Monitor.objects.exclude(pk__in=[world.monitor_a.pk, world.monitor_b.pk]).delete()
        for monitor in add_monitors(world.site_a, count):
            monitor.tags.set(tags[: monitor.pk % 3 + 1])
        with CaptureQueriesContext(connection) as captured:
            page = browser.get(URL, {"sort": "state"})
        assert len(page.context["rows"]) == min(count + 2, 50)
        return len(captured)

    assert queries_for(10) == queries_for(60)


@pytest.mark.parametrize("persona", ["engineer", "client_a_user"])
def test_it_shows_the_tags_of_the_monitors(world, persona):
    tag = Tag.objects.create(organization=world.agency, name="Klient VIP", colour=TagColour.RED)
    world.monitor_a.tags.add(tag)
    html = signed_in(getattr(world, persona)).get(URL).content.decode()
    assert '<span class="tag tag--red">Klient VIP</span>' in html


def test_it_lists_nothing_of_another_agency(world):
    other = Organization.objects.create(name="Other", slug="other")
    client = Client.objects.create(organization=other, name="Foreign", slug="foreign")
    site = Site.objects.create(client=client, name="Foreign shop", slug="f")
    add_monitors(site, 3, prefix="Foreign")
    stranger = make_user("stranger", other, Role.OWNER)
    assert names(signed_in(world.owner).get(URL, {"q": "foreign"})) == []
    assert len(names(signed_in(stranger).get(URL))) == 3


def test_it_keeps_a_heartbeats_ping_token_off_the_list(world):
    """The token is the heartbeat's secret (its ``url``): the list names the kind instead, as
    the site and monitor pages do."""
    beat = Monitor.objects.create(
        site=world.site_a, name="Nightly backup", kind=CheckKind.HEARTBEAT, url="s3cr3t-t0ken"
    )
    html = signed_in(world.owner).get(URL).content.decode()
    assert beat.name in html and world.monitor_a.url in html
    assert "s3cr3t-t0ken" not in html
    # Nor does a search find it by the token's letters.
    assert names(signed_in(world.owner).get(URL, {"q": "3cr3t"})) == []
    assert names(signed_in(world.owner).get(URL, {"q": "nightly"})) == [beat.name]


def test_it_gives_a_heartbeat_its_period_or_cron_schedule_as_its_interval(world):
    """A heartbeat's check pace only looks for a late ping: how often it should hear from the
    job is its period, or its cron schedule."""
    Monitor.objects.create(
        site=world.site_a,
        name="Nightly",
        kind=CheckKind.HEARTBEAT,
        url="t1",
        config={"period": 86400},
        interval_s=60,
    )
    Monitor.objects.create(
        site=world.site_a, name="Cron", kind=CheckKind.HEARTBEAT, url="t2",
        config={"cron": "0 3 * * *"}, interval_s=60,
    )  # fmt: skip
    page = signed_in(world.owner).get(URL)
    intervals = {row.monitor.name: row.interval for row in page.context["rows"]}
    assert intervals["Nightly"] == "1 d"
    assert intervals["Cron"] == "0 3 * * *"
    assert intervals[world.monitor_a.name] == "1 min"
