"""The rules docs/sla.md states for a client of several sites: which sites' maintenance makes
the client's excluded time, what "not monitored yet" means, and maintenance without a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents.models import MaintenanceWindow
from monitoring.models import CheckKind, Monitor
from sites.models import Site
from sla.budget import allowance
from sla.periods import parse_period
from sla.report import client_sla
from sla.tests.plan_world import on_example_plan, watched

SINCE = datetime(2026, 9, 1, tzinfo=UTC)
NOW = datetime(2026, 10, 20, tzinfo=UTC)
OCTOBER = parse_period("2026-10", "UTC")
BLOG_WATCHED_FROM = datetime(2026, 10, 15, tzinfo=UTC)
SHOP_MAINTENANCE = (datetime(2026, 10, 5, 10, tzinfo=UTC), datetime(2026, 10, 5, 12, tzinfo=UTC))


def window(client, site, title: str, starts: datetime) -> MaintenanceWindow:
    """Two hours of maintenance from ``starts`` (the sites are in UTC)."""
    return MaintenanceWindow.objects.create(
        client=client,
        site=site,
        title=title,
        start_date=starts.date(),
        start_time=starts.time(),
        duration_minutes=120,
    )


def two_sites(world, *, plan: bool = True) -> Site:
    """Shop A watched since September, in maintenance 10:00–12:00 on 5 October and down
    throughout it; Blog A watched from 15 October only (no maintenance of its own); a site
    without a monitor that counts, whose maintenance never matters."""
    if plan:
        on_example_plan(world, time_zone="UTC")
    Site.objects.filter(pk=world.site_a.pk).update(time_zone="UTC")
    world.site_a.refresh_from_db()
    start, end = SHOP_MAINTENANCE
    watched(
        world.monitor_a, SINCE, (SINCE, "unknown", "up"), (start, "up", "down"), (end, "down", "up")
    )
    blog = Site.objects.create(client=world.client_a, name="Blog A", slug="blog-a", time_zone="UTC")
    home = Monitor.objects.create(site=blog, name="Blog", kind=CheckKind.HTTP, url="https://b/")
    watched(home, BLOG_WATCHED_FROM, (BLOG_WATCHED_FROM, "unknown", "up"))
    window(world.client_a, world.site_a, "Shop upgrade", start)
    brochure = Site.objects.create(
        client=world.client_a, name="Brochure", slug="brochure", time_zone="UTC"
    )
    window(world.client_a, brochure, "Brochure move", start + timedelta(days=1))
    Monitor.objects.create(  # a warning only: the site does not count for the SLA
        site=brochure, name="Cert", kind=CheckKind.TLS, url="brochure.example", critical=False
    )
    return blog


def test_it_excludes_maintenance_of_every_site_monitored_then_not_of_sites_watched_later(world):
    two_sites(world)
    sla = client_sla(world.client_a, OCTOBER, now=NOW)
    figures = sla.figures
    # The shop was the only site watched on 5 October: its maintenance is the client's.
    assert figures.excluded == timedelta(hours=2)
    assert figures.down == timedelta(0)
    # The blog's first monitor came on the 15th: the client was watched through the shop,
    # so nothing of October is "not monitored yet" (only what is still to come).
    assert figures.unmonitored == timedelta(0)
    assert figures.to_come == OCTOBER.end - NOW
    window = sla.window
    assert window is not None
    counted = OCTOBER.end - OCTOBER.start - timedelta(hours=2)
    assert window.budget.allowed == allowance(window.target, counted)
    # Each site keeps its own figures: the blog is "not monitored yet" before its monitor.
    by_name = {site.name: site_figures for site, site_figures in sla.sites}
    assert set(by_name) == {"Shop A", "Blog A"}
    assert by_name["Blog A"].unmonitored == BLOG_WATCHED_FROM - OCTOBER.start


def test_it_excludes_maintenance_only_when_every_watched_site_is_in_it(world):
    blog = two_sites(world)
    # The same hours a week later, when both sites are watched and only the shop is in it.
    later = (SHOP_MAINTENANCE[0] + timedelta(days=12), SHOP_MAINTENANCE[1] + timedelta(days=12))
    window(world.client_a, world.site_a, "Second upgrade", later[0])
    figures = client_sla(world.client_a, OCTOBER, now=NOW).figures
    assert figures.excluded == timedelta(hours=2)  # the 5th only
    window(world.client_a, blog, "Blog too", later[0])
    figures = client_sla(world.client_a, OCTOBER, now=NOW).figures
    assert figures.excluded == timedelta(hours=4)


def test_it_excludes_maintenance_without_a_plan(world):
    two_sites(world, plan=False)
    sla = client_sla(world.client_a, OCTOBER, now=NOW)
    assert sla.plan is None and sla.window is None
    assert sla.figures.excluded == timedelta(hours=2)
    assert sla.figures.down == timedelta(0)
