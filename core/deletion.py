"""What goes with a client, a site or a monitor when it is deleted, counted for the page that
asks "are you sure?" (the database cascades; this only says what the cascade takes)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from incidents.models import Channel, Incident, StatusComponent, StatusPage
from monitoring.models import CheckResult, Monitor
from sites.models import Site
from tenancy.models import Client


@dataclass(frozen=True)
class DeletionSummary:
    """Counts of what a deletion takes with it (0 where the object holds none of a kind)."""

    sites: int = 0
    monitors: int = 0
    results: int = 0
    incidents: int = 0
    components: int = 0
    status_pages: int = 0
    channels: int = 0


def _for_monitors(monitors: QuerySet[Monitor]) -> dict[str, int]:
    return {
        "monitors": monitors.count(),
        "results": CheckResult.objects.filter(monitor__in=monitors).count(),
        "incidents": Incident.objects.filter(monitor__in=monitors).count(),
        "components": StatusComponent.objects.filter(monitor__in=monitors).count(),
    }


def monitor_deletion(monitor: Monitor) -> DeletionSummary:
    counts = _for_monitors(Monitor.objects.filter(pk=monitor.pk))
    return DeletionSummary(**{**counts, "monitors": 0})


def site_deletion(site: Site) -> DeletionSummary:
    return DeletionSummary(
        **_for_monitors(Monitor.objects.filter(site=site)),
        channels=Channel.objects.filter(site=site).count(),
    )


def client_deletion(client: Client) -> DeletionSummary:
    return DeletionSummary(
        sites=Site.objects.filter(client=client).count(),
        **_for_monitors(Monitor.objects.filter(site__client=client)),
        status_pages=StatusPage.objects.filter(client=client).count(),
        channels=Channel.objects.filter(client=client).count(),
    )
