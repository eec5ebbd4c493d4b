"""The agency's side of status pages, by persona: owners and engineers create pages, choose
components among their client's monitors and post public updates; client users read their
own client's pages; client B's user gets 404 for anything of client A. Web UI and API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from api.tests.conftest import ApiCaller, field_errors
from front.tests.conftest import signed_in
from incidents.models import (
    Incident,
    PublicUpdate,
    StatusComponent,
    StatusEmail,
    StatusPage,
    StatusSubscriber,
)
from incidents.tests.statuspages import reset_caches
from tenancy.models import ApiToken

PAGE_FORM = {
    "action": "save",
    "title": "Shop A status",
    "slug": "shop-a",
    "intro": "",
    "custom_domain": "",
    "accent_color": "#2563eb",
    "agency_name": "Agency",
    "logo_url": "",
}


@pytest.fixture(autouse=True)
def _fresh_caches():
    reset_caches()
    yield
    reset_caches()


@pytest.fixture
def page_a(world):
    page = StatusPage.objects.create(client=world.client_a, slug="shop-a", title="Shop A")
    StatusComponent.objects.create(page=page, monitor=world.monitor_a, name="Shop")
    return page


# --- web UI ------------------------------------------------------------------------------------


def test_it_lets_an_engineer_create_a_page_and_choose_components(world):
    browser = signed_in(world.engineer)
    answer = browser.post(
        reverse("front:statuspages", args=[world.client_a.pk]),
        {**PAGE_FORM, "custom_domain": "Status.Shop-A.example", "published": "on"},
    )
    page = StatusPage.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/status-pages/{page.pk}/"
    assert (page.client, page.custom_domain, page.published) == (
        world.client_a,
        "status.shop-a.example",
        True,
    )
    detail = reverse("front:statuspage", args=[page.pk])
    html = browser.get(detail).content.decode()
    # Only client A's monitors are offered.
    assert f'value="{world.monitor_a.pk}"' in html
    assert f'value="{world.monitor_b.pk}"' not in html
    refused = browser.post(
        detail, {"action": "add_component", "monitor": world.monitor_b.pk, "name": "B"}
    )
    assert refused.status_code == 200 and not StatusComponent.objects.exists()
    assert "Select a valid choice" in refused.content.decode()
    added = browser.post(
        detail, {"action": "add_component", "monitor": world.monitor_a.pk, "name": "Shop"}
    )
    assert added.status_code == 302
    component = StatusComponent.objects.get()
    assert (component.monitor, component.name, component.position) == (world.monitor_a, "Shop", 0)
    browser.post(
        detail,
        {"action": "update_component", "component": component.pk, "name": "Store", "position": 3},
    )
    component.refresh_from_db()
    assert (component.name, component.position) == ("Store", 3)
    browser.post(detail, {"action": "remove_component", "component": component.pk})
    assert not StatusComponent.objects.exists()


def test_it_names_the_fields_it_refuses_and_saves_nothing(world, page_a):
    browser = signed_in(world.owner)
    answer = browser.post(
        reverse("front:statuspages", args=[world.client_a.pk]),
        {
            **PAGE_FORM,
            "slug": "shop-a",  # taken
            "accent_color": "red",
            "logo_url": "javascript:alert(1)",
            "custom_domain": "localhost",
        },
    )
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert set(errors) == {"slug", "accent_color", "logo_url", "custom_domain"}
    assert StatusPage.objects.count() == 1


def test_it_shows_client_users_their_pages_read_only(world, page_a):
    own = signed_in(world.client_a_user)
    listing = own.get(reverse("front:statuspages", args=[world.client_a.pk]))
    assert listing.status_code == 200 and "Shop A" in listing.content.decode()
    assert listing.context["form"] is None
    detail = reverse("front:statuspage", args=[page_a.pk])
    page = own.get(detail)
    assert page.status_code == 200 and page.context["page_form"] is None
    assert own.post(detail, {**PAGE_FORM, "title": "Mine"}).status_code == 403
    assert own.post(detail, {"action": "delete"}).status_code == 403
    new = own.post(reverse("front:statuspages", args=[world.client_a.pk]), PAGE_FORM)
    assert new.status_code == 403
    assert StatusPage.objects.get().title == "Shop A"


def test_it_answers_404_to_client_b_for_client_a_pages(world, page_a):
    intruder = signed_in(world.client_b_user)
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=timezone.now())
    for url in (
        reverse("front:statuspages", args=[world.client_a.pk]),
        reverse("front:statuspage", args=[page_a.pk]),
        reverse("front:incident_public_updates", args=[incident.pk]),
    ):
        assert intruder.get(url).status_code == 404, url
        assert intruder.post(url, {"action": "delete"}).status_code == 404, url
    own_list = intruder.get(reverse("front:statuspages", args=[world.client_b.pk]))
    assert "Shop A" not in own_list.content.decode()
    assert StatusPage.objects.filter(pk=page_a.pk).exists()


def test_it_posts_a_public_update_from_the_incident_page(world, page_a):
    page_a.published = True
    page_a.save()
    StatusSubscriber.objects.create(
        page=page_a, email="a@example.com", created_at=timezone.now(), confirmed_at=timezone.now()
    )
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=timezone.now())
    browser = signed_in(world.engineer)
    incident_page = browser.get(reverse("front:incident", args=[incident.pk])).content.decode()
    action = reverse("front:incident_public_updates", args=[incident.pk])
    assert f'action="{action}"' in incident_page
    empty = browser.post(action, {"status": "identified", "body": "  "})
    assert empty.status_code == 200 and "body" in empty.context["form"].errors
    answer = browser.post(action, {"status": "identified", "body": "Found it"})
    assert answer.status_code == 302
    assert answer["Location"] == reverse("front:incident", args=[incident.pk])
    update = PublicUpdate.objects.get()
    assert (update.status, update.body, update.author) == ("identified", "Found it", world.engineer)
    assert StatusEmail.objects.filter(update=update).count() == 1
    # Client users read the updates, without the form, and may not post.
    own = signed_in(world.client_a_user)
    shown = own.get(reverse("front:incident", args=[incident.pk])).content.decode()
    assert "Found it" in shown and f'action="{action}"' not in shown
    assert own.post(action, {"status": "resolved", "body": "x"}).status_code == 403


# --- API -----------------------------------------------------------------------------------------


def api_as(user) -> ApiCaller:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiCaller(raw)


def test_it_creates_pages_and_components_through_the_api(world):
    owner = api_as(world.owner)
    created = owner.post(
        "/status-pages",
        {"client": world.client_a.pk, "slug": "shop-a", "title": "Shop A", "published": True},
    )
    assert created.status_code == 201, created.content
    page = created.json()
    assert page["url"] == "/status/shop-a/" and page["subscribers"] == 0
    component = owner.post(
        "/status-pages/components",
        {"page": page["id"], "monitor": world.monitor_a.pk, "name": "Shop"},
    )
    assert component.status_code == 201, component.content
    assert owner.get("/status-pages/components", page=page["id"]).json()["count"] == 1
    patched = owner.patch(f"/status-pages/{page['id']}", {"accent_color": "#0F766E"})
    assert patched.status_code == 200 and patched.json()["accent_color"] == "#0f766e"


def test_it_answers_422_naming_each_refused_field(world, page_a):
    owner = api_as(world.owner)
    refused = owner.post(
        "/status-pages",
        {
            "client": world.client_a.pk,
            "slug": "shop-a",
            "title": "X",
            "accent_color": "blue",
            "logo_url": "javascript:alert(1)",
            "custom_domain": "https://x.example",
        },
    )
    assert set(field_errors(refused)) == {"slug", "accent_color", "logo_url", "custom_domain"}
    foreign = owner.post(
        "/status-pages/components",
        {"page": page_a.pk, "monitor": world.monitor_b.pk, "name": "Other client's"},
    )
    assert field_errors(foreign) == {"monitor": "The monitor belongs to another client."}
    twice = owner.post(
        "/status-pages/components", {"page": page_a.pk, "monitor": world.monitor_a.pk, "name": "x"}
    )
    assert set(field_errors(twice)) == {"monitor"}
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=timezone.now())
    bad_status = owner.post(
        "/status-pages/public-updates", {"incident": incident.pk, "status": "fine", "body": "x"}
    )
    assert set(field_errors(bad_status)) == {"status"}
    blank = owner.post(
        "/status-pages/public-updates", {"incident": incident.pk, "status": "resolved", "body": " "}
    )
    assert set(field_errors(blank)) == {"body"}
    assert StatusPage.objects.count() == 1 and not PublicUpdate.objects.exists()


def test_it_keeps_client_users_to_reading_and_client_b_out(world, page_a):
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=timezone.now())
    a_user, b_user = api_as(world.client_a_user), api_as(world.client_b_user)
    assert a_user.get(f"/status-pages/{page_a.pk}").status_code == 200
    assert a_user.get("/status-pages").json()["count"] == 1
    assert b_user.get("/status-pages").json()["count"] == 0
    assert b_user.get(f"/status-pages/{page_a.pk}").status_code == 404
    update = {"incident": incident.pk, "status": "identified", "body": "x"}
    assert a_user.post("/status-pages/public-updates", update).status_code == 403
    assert api_as(world.owner).post("/status-pages/public-updates", update).status_code == 201
    assert b_user.get("/status-pages/public-updates").json()["count"] == 0
    assert a_user.get("/status-pages/public-updates").json()["count"] == 1
    new_page = {"client": world.client_a.pk, "slug": "x", "title": "X"}
    assert a_user.post("/status-pages", new_page).status_code == 403
    component = {"page": page_a.pk, "monitor": world.monitor_a.pk, "name": "x"}
    assert b_user.post("/status-pages/components", component).status_code == 403
