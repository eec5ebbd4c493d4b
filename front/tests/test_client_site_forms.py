"""Client and site forms: agency members add, change and delete (with what goes with it shown
first); client users get 404 and learn nothing of other clients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from front.tests.conftest import signed_in
from incidents.models import Channel, Incident, StatusPage
from monitoring.models import CheckResult, Monitor
from sites.models import Site
from tenancy.models import Client

pytestmark = pytest.mark.django_db


def test_it_adds_a_client_with_a_slug_made_from_its_name(world):
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:client_new"), {"name": "Kwiaciarnia Róża", "slug": ""})
    client = Client.objects.get(name="Kwiaciarnia Róża")
    assert response["Location"] == reverse("front:client", args=[client.pk])
    assert (client.slug, client.organization) == ("kwiaciarnia-roza", world.agency)
    browser.post(reverse("front:client_new"), {"name": "Kwiaciarnia  Róża", "slug": ""})
    assert Client.objects.get(name="Kwiaciarnia  Róża").slug == "kwiaciarnia-roza-2"


def test_it_refuses_a_taken_slug_and_a_blank_name_on_their_fields(world):
    response = signed_in(world.owner).post(
        reverse("front:client_new"), {"name": " ", "slug": "client-a"}, HTTP_ACCEPT_LANGUAGE="pl"
    )
    errors = response.context["form"].errors
    assert set(errors) == {"name", "slug"}
    assert errors["slug"] == ["Ta nazwa w adresie jest już zajęta."]
    assert Client.objects.count() == 2


def test_it_edits_a_client(world):
    url = reverse("front:client_edit", args=[world.client_a.pk])
    signed_in(world.owner).post(url, {"name": "Klient A", "slug": "client-a"})
    world.client_a.refresh_from_db()
    assert world.client_a.name == "Klient A"


def test_it_adds_and_edits_a_site(world):
    browser = signed_in(world.owner)
    response = browser.post(
        reverse("front:site_new", args=[world.client_a.pk]),
        {
            "name": "Blog",
            "slug": "",
            "url": "https://blog.a.example/",
            "time_zone": "Europe/Warsaw",
        },
    )
    site = Site.objects.get(name="Blog")
    assert response["Location"] == reverse("front:site", args=[site.pk])
    assert (site.client, site.slug) == (world.client_a, "blog")
    response = browser.post(
        reverse("front:site_edit", args=[site.pk]),
        {"name": "Blog", "slug": "blog", "url": "", "time_zone": "Mars/Olympus"},
    )
    assert "time_zone" in response.context["form"].errors


def test_it_says_what_goes_with_a_client_before_deleting_it(world):
    monitor = world.monitor_a
    CheckResult.objects.create(monitor=monitor, checked_at=monitor.created_at, ok=True)
    Incident.objects.create(monitor=monitor, opened_at=monitor.created_at)
    StatusPage.objects.create(client=world.client_a, slug="a", title="A")
    browser = signed_in(world.owner)
    url = reverse("front:client_delete", args=[world.client_a.pk])
    summary = browser.get(url).context["summary"]
    assert (summary.sites, summary.monitors, summary.results) == (1, 1, 1)
    assert (summary.incidents, summary.status_pages, summary.channels) == (1, 1, 1)
    assert Client.objects.filter(pk=world.client_a.pk).exists()
    browser.post(url)
    assert not Client.objects.filter(pk=world.client_a.pk).exists()
    assert not Monitor.objects.filter(pk=monitor.pk).exists()
    assert Channel.objects.filter(client=world.client_b).exists(), "client B keeps its own"


def test_it_says_what_goes_with_a_site_before_deleting_it(world):
    browser = signed_in(world.engineer)
    url = reverse("front:site_delete", args=[world.site_a.pk])
    summary = browser.get(url).context["summary"]
    assert (summary.monitors, summary.sites) == (1, 0)
    browser.post(url)
    assert not Site.objects.filter(pk=world.site_a.pk).exists()
    assert Site.objects.filter(pk=world.site_b.pk).exists()


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_answers_404_to_client_users(world, persona):
    browser = signed_in(getattr(world, persona))
    client, site = world.client_a, world.site_a
    urls = [
        reverse("front:client_new"),
        reverse("front:client_edit", args=[client.pk]),
        reverse("front:client_delete", args=[client.pk]),
        reverse("front:site_new", args=[client.pk]),
        reverse("front:site_edit", args=[site.pk]),
        reverse("front:site_delete", args=[site.pk]),
    ]
    for url in urls:
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, {"name": "X", "slug": "x"}).status_code == 404, url
    assert Client.objects.count() == 2 and Site.objects.count() == 2
    if persona == "client_a_user":
        page = browser.get(reverse("front:client", args=[client.pk])).content.decode()
        assert reverse("front:site_new", args=[client.pk]) not in page
        assert reverse("front:client_edit", args=[client.pk]) not in page


def test_it_leads_from_each_empty_state_to_the_next_step(world):
    browser = signed_in(world.owner)
    client = Client.objects.create(organization=world.agency, name="Nowy", slug="nowy")
    page = browser.get(reverse("front:client", args=[client.pk])).content.decode()
    assert reverse("front:site_new", args=[client.pk]) in page
    site = Site.objects.create(client=client, name="Strona", slug="strona")
    page = browser.get(reverse("front:site", args=[site.pk])).content.decode()
    for kind in ("http", "tcp", "heartbeat"):
        assert reverse("front:monitor_new", args=[site.pk]) + f"?kind={kind}" in page
