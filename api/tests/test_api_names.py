"""Names shown to others are refused through the API when they hold control characters,
text-direction marks or invisible characters (422 naming the field, nothing stored), so two
names that must be unique cannot look the same; channel URLs have a length cap."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.tests.conftest import field_errors
from incidents.models import Channel, EscalationPolicy, StatusPage
from sites.models import Site
from sla.models import CarePlan

SPOOF = "invoice\u202efdp.exe"


@pytest.fixture
def owner_api(world, api_as):
    return api_as(world.owner)


def _bodies(world) -> list[tuple[str, str, dict, str]]:
    """(method, path, body, field) for every name an agency member types through the API."""
    page = StatusPage.objects.create(client=world.client_a, slug="shop", title="Shop")
    plan = CarePlan.objects.create(
        organization=world.agency, name="Gold", slug="gold", availability_target=Decimal("99.9")
    )
    site, monitor, client = world.site_a.pk, world.monitor_a.pk, world.client_a.pk
    return [
        ("POST", "/clients", {"name": SPOOF, "slug": "c"}, "name"),
        ("PATCH", f"/sites/{world.site_a.pk}", {"name": SPOOF}, "name"),
        ("POST", "/monitors", {"site": site, "name": SPOOF, "url": "https://a.example/"}, "name"),
        ("POST", "/channels", {"name": SPOOF, "url": "json://hooks.example/"}, "name"),
        ("POST", "/me/channels", {"name": SPOOF, "url": "json://hooks.example/"}, "name"),
        ("PATCH", f"/plans/{plan.pk}", {"name": SPOOF}, "name"),
        ("POST", "/status-pages", {"client": client, "slug": "p", "title": SPOOF}, "title"),
        ("PATCH", f"/status-pages/{page.pk}", {"agency_name": "Agency\x00"}, "agency_name"),
        (
            "POST",
            "/status-pages/components",
            {"page": page.pk, "monitor": monitor, "name": SPOOF},
            "name",
        ),
        ("POST", "/escalation-policies", {"name": SPOOF, "steps": [{"wait_minutes": 5}]}, "name"),
        ("POST", "/oncall/schedules", {"name": "Week\nend"}, "name"),
        (
            "POST",
            "/maintenance-windows",
            {
                "client": client,
                "title": SPOOF,
                "start_date": "2026-03-01",
                "start_time": "02:00",
                "duration_minutes": 60,
            },
            "title",
        ),
    ]  # fmt: skip


def test_it_refuses_hidden_characters_in_every_name_others_read(world, owner_api):
    for method, path, body, field in _bodies(world):
        errors = field_errors(owner_api.call(method, path, body))
        assert list(errors) == [field], (method, path)
        assert errors[field].startswith(
            "Invisible characters, control characters and text-direction marks are not allowed "
            "here (found U+"
        ), (method, path)
    assert not Channel.objects.filter(name=SPOOF).exists()
    assert Site.objects.get(pk=world.site_a.pk).name == "Shop A"


def test_it_caps_the_length_of_a_channel_url(world, owner_api):
    url = "json://hooks.example/" + "a" * 1_000_000
    errors = field_errors(owner_api.post("/channels", {"name": "Big", "url": url}))
    assert errors == {"url": "The address is too long: at most 4096 characters."}
    hook = Channel.objects.get(name="A hook")
    errors = field_errors(owner_api.patch(f"/channels/{hook.pk}", {"url": url}))
    assert list(errors) == ["url"]
    assert not Channel.objects.filter(name="Big").exists()


def test_it_keeps_unique_names_from_looking_the_same(world, owner_api):
    steps = [{"wait_minutes": 5, "channels": [Channel.objects.get(name="A hook").pk]}]
    assert (
        owner_api.post("/escalation-policies", {"name": "Default", "steps": steps}).status_code
        == 201
    )
    lookalikes = [
        "Default\u200b",  # zero-width space
        "Default\ufeff",  # byte order mark
        "Default\u2060",  # word joiner
        "Def\u00adault",  # soft hyphen
        "Default\U000e0041\U000e0042",  # tags
        "De\u200dfault",  # a joiner between Latin letters joins nothing
        "Default\ufe0f",  # a variation selector after a Latin letter selects nothing
        "\u3164Default",  # Hangul filler
        " Default ",  # surrounding spaces are stripped, as the web forms do
    ]
    for name in lookalikes:
        response = owner_api.post("/escalation-policies", {"name": name, "steps": steps})
        assert response.status_code in (409, 422), (name, response.content)
    assert list(EscalationPolicy.objects.values_list("name", flat=True)) == ["Default"]
