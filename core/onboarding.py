"""The first steps of a new agency, as the dashboard's checklist shows them until all are done."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.models import Channel, StatusPage
from monitoring.models import Monitor
from sites.models import Site
from tenancy.models import Client


@dataclass(frozen=True)
class Step:
    """One step: its stable key (for links and tests), its words and whether it is done."""

    key: str
    label: Promise
    done: bool


@dataclass(frozen=True)
class Checklist:
    """The steps, and the first client and site (where the next steps' links lead)."""

    steps: tuple[Step, ...]
    client_id: int | None = None
    site_id: int | None = None

    @property
    def done(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)


def onboarding(organization_id: int) -> Checklist:
    """Which first steps the agency has taken: a client, a site, a monitor, an alert channel,
    an alert that really went out (a channel's first success, e.g. its test message) and a
    status page. One cheap EXISTS query per step."""
    clients = Client.objects.filter(organization_id=organization_id)
    channels = Channel.objects.filter(organization_id=organization_id, user__isnull=True)
    steps = (
        Step("client", _("Add a client"), clients.exists()),
        Step("site", _("Add a site"), Site.objects.filter(client__in=clients).exists()),
        Step(
            "monitor",
            _("Add a monitor"),
            Monitor.objects.filter(site__client__in=clients).exists(),
        ),
        Step("channel", _("Add an alert channel"), channels.exists()),
        Step(
            "test_alert",
            _("Send a test alert"),
            channels.filter(last_success_at__isnull=False).exists(),
        ),
        Step(
            "status_page",
            _("Publish a status page"),
            StatusPage.objects.filter(client__in=clients).exists(),
        ),
    )
    first_site = Site.objects.filter(client__in=clients).order_by("pk").values("pk", "client_id")
    site = first_site.first()
    client_id = (
        site["client_id"] if site else clients.order_by("pk").values_list("pk", flat=True).first()
    )
    return Checklist(steps, client_id=client_id, site_id=site["pk"] if site else None)
