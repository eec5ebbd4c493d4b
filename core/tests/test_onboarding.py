"""The first-steps checklist of a new agency, and the dashboard that shows it until done."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from core.onboarding import onboarding
from front.tests.conftest import signed_in
from incidents.models import Channel, StatusPage
from monitoring.models import Monitor
from sites.models import Site
from tenancy.models import Client, Organization, Role

pytestmark = pytest.mark.django_db


def done(org: Organization) -> dict[str, bool]:
    return {step.key: step.done for step in onboarding(org.pk).steps}


def test_it_ticks_each_step_as_the_agency_takes_it():
    org = Organization.objects.create(name="Nowa", slug="nowa")
    other = Organization.objects.create(name="Inna", slug="inna")
    other_client = Client.objects.create(organization=other, name="X", slug="x")
    StatusPage.objects.create(client=other_client, slug="x", title="X")
    assert not any(done(org).values()), "another agency's objects count for nothing"
    client = Client.objects.create(organization=org, name="K", slug="k")
    site = Site.objects.create(client=client, name="S", slug="s")
    Monitor.objects.create(site=site, name="M", kind="http", url="https://s.example/")
    assert done(org) == {
        "client": True,
        "site": True,
        "monitor": True,
        "channel": False,
        "test_alert": False,
        "status_page": False,
    }
    channel = Channel.objects.create(organization=org, name="Hook", url="json://127.0.0.1:9/")
    assert done(org)["channel"] and not done(org)["test_alert"]
    Channel.objects.filter(pk=channel.pk).update(last_success_at=timezone.now())
    StatusPage.objects.create(client=client, slug="k", title="K")
    checklist = onboarding(org.pk)
    assert checklist.done and checklist.done_count == 6
    assert (checklist.client_id, checklist.site_id) == (client.pk, site.pk)


def test_it_does_not_count_a_personal_channel_as_the_agencys():
    org = Organization.objects.create(name="Nowa", slug="nowa")
    owner = make_user("owner", org, Role.OWNER)
    Channel.objects.create(organization=org, user=owner, name="Mine", url="json://127.0.0.1:9/")
    assert not done(org)["channel"]


def test_it_shows_the_checklist_on_the_dashboard_until_done(world):
    org = Organization.objects.create(name="Nowa", slug="nowa")
    owner = make_user("nowy", org, Role.OWNER)
    page = signed_in(owner).get(reverse("front:dashboard")).content.decode()
    assert 'class="panel panel--notice onboarding"' in page
    assert reverse("front:client_new") in page
    assert reverse("front:plan_examples") in page
    # The world's agency has everything but a status page and a delivered alert.
    page = signed_in(world.owner).get(reverse("front:dashboard")).content.decode()
    assert 'data-step="status_page"' in page
    Channel.objects.filter(organization=world.agency).update(last_success_at=timezone.now())
    StatusPage.objects.create(client=world.client_a, slug="a", title="A")
    page = signed_in(world.owner).get(reverse("front:dashboard")).content.decode()
    assert "onboarding" not in page


def test_it_shows_no_checklist_to_client_users(world):
    page = signed_in(world.client_a_user).get(reverse("front:dashboard")).content.decode()
    assert "onboarding" not in page
    assert reverse("front:client_new") not in page
