"""Whether a status page's readers may subscribe, set through the API like its other fields."""

from __future__ import annotations

from incidents.models import StatusPage


def test_it_sets_whether_readers_may_subscribe(world, api_as):
    page = StatusPage.objects.create(client=world.client_a, slug="shop", title="Shop")
    owner = api_as(world.owner)
    assert owner.call("GET", f"/status-pages/{page.pk}").json()["allow_subscriptions"] is True
    response = owner.call("PATCH", f"/status-pages/{page.pk}", {"allow_subscriptions": False})
    assert response.status_code == 200 and response.json()["allow_subscriptions"] is False
    page.refresh_from_db()
    assert not page.allow_subscriptions
    outsider = api_as(world.client_b_user)
    assert outsider.call("GET", f"/status-pages/{page.pk}").status_code == 404
    refused = outsider.call("PATCH", f"/status-pages/{page.pk}", {"allow_subscriptions": True})
    assert refused.status_code == 404
    page.refresh_from_db()
    assert not page.allow_subscriptions
