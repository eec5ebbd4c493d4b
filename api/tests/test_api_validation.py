"""Bad input: each refusal is a 422 naming the request body's field, and nothing is stored."""

import pytest

from api.tests.conftest import field_errors
from incidents.models import Channel
from monitoring.models import Monitor
from sites.models import Site
from tenancy.models import Client, Organization


@pytest.fixture
def owner_api(world, api_as):
    return api_as(world.owner)


def _new_monitor(world, **fields) -> dict:
    return {"site": world.site_a.pk, "name": "Check", "url": "https://a.example/", **fields}


def test_it_names_a_malformed_monitor_url(world, owner_api):
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, url="ftp://a.example")))
    assert list(errors) == ["url"]
    assert "http://" in errors["url"]
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, url="https://")))
    assert list(errors) == ["url"]


def test_it_names_an_unknown_monitor_field(world, owner_api):
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, colour="red")))
    assert list(errors) == ["colour"]


def test_it_names_a_negative_interval(world, owner_api):
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, interval=-5)))
    assert list(errors) == ["interval"]
    errors = field_errors(owner_api.patch(f"/monitors/{world.monitor_a.pk}", {"interval": -5}))
    assert list(errors) == ["interval"]
    assert Monitor.objects.get(pk=world.monitor_a.pk).interval_s == 60


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/admin",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_it_refuses_a_blocked_literal_address(world, owner_api, url):
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, url=url)))
    assert list(errors) == ["url"]
    assert "not allowed by the network policy" in errors["url"]
    errors = field_errors(owner_api.patch(f"/monitors/{world.monitor_a.pk}", {"url": url}))
    assert list(errors) == ["url"]
    assert not Monitor.objects.filter(url=url).exists()


@pytest.mark.parametrize(
    ("kind", "target", "written_as"),
    [
        ("http", "http://2130706433/", "127.0.0.1"),
        ("http", "http://0x7f.1:8001/", "127.0.0.1"),
        ("http", "http://127.1/", "127.0.0.1"),
        ("http", "https://10.1/", "10.0.0.1"),
        ("http", "http://0177.0.0.1/", "127.0.0.1"),
        ("tcp", "127.1:22", "127.0.0.1"),
        ("tls", "0x7f000001:443", "127.0.0.1"),
    ],
)
def test_it_refuses_an_ipv4_address_in_an_unusual_form_even_when_allowlisted(
    world, owner_api, kind, target, written_as
):
    world.agency.ssrf_allowlist = "0.0.0.0/0"
    world.agency.save()
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, kind=kind, url=target)))
    assert list(errors) == ["url"]
    assert f"write it as {written_as}" in errors["url"]
    assert not Monitor.objects.filter(url=target).exists()


def test_it_admits_a_literal_address_the_agency_allowlists(world, owner_api):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    created = owner_api.post("/monitors", _new_monitor(world, url="http://127.0.0.1:8001/"))
    assert created.status_code == 201, created.content


def test_it_reports_every_bad_field_at_once(world, owner_api):
    errors = field_errors(
        owner_api.post(
            "/monitors",
            {"name": "", "url": "nope", "interval": 0, "expected_status": "2xx", "timeout": -1},
        )
    )
    assert set(errors) == {"site", "name", "url", "interval", "expected_status", "timeout"}


def test_it_requires_a_site_the_caller_can_see(world, owner_api):
    assert list(
        field_errors(owner_api.post("/monitors", {"name": "x", "url": "https://x.example"}))
    ) == ["site"]
    missing = field_errors(owner_api.post("/monitors", _new_monitor(world, site=999_999)))
    assert list(missing) == ["site"]


def test_it_names_a_duplicate_name_or_slug(world, owner_api):
    errors = field_errors(owner_api.post("/monitors", _new_monitor(world, name="Home")))
    assert list(errors) == ["name"]
    errors = field_errors(owner_api.post("/clients", {"name": "Again", "slug": "client-a"}))
    assert list(errors) == ["slug"]
    errors = field_errors(
        owner_api.post("/sites", {"client": world.client_a.pk, "name": "Again", "slug": "shop-a"})
    )
    assert list(errors) == ["slug"]
    errors = field_errors(
        owner_api.post("/channels", {"name": "A hook", "url": "json://x.example/"})
    )
    assert list(errors) == ["name"]


def test_it_names_bad_site_fields(world, owner_api):
    errors = field_errors(
        owner_api.post(
            "/sites",
            {
                "client": world.client_a.pk,
                "name": "Blog",
                "slug": "not a slug",
                "url": "not a url",
                "time_zone": "Mars/Olympus",
            },
        )
    )
    assert set(errors) == {"time_zone"}  # schema errors first; the model's checks follow
    errors = field_errors(
        owner_api.post(
            "/sites",
            {"client": world.client_a.pk, "name": "Blog", "slug": "not a slug", "url": "not a url"},
        )
    )
    assert set(errors) == {"slug", "url"}
    assert not Site.objects.filter(name="Blog").exists()


def test_it_names_a_missing_body_field(world, owner_api):
    errors = field_errors(owner_api.post("/clients", {"name": "No slug"}))
    assert list(errors) == ["slug"]


def test_it_refuses_a_channel_url_apprise_cannot_use_without_echoing_it(world, owner_api):
    response = owner_api.post("/channels", {"name": "Bad", "url": "nonsense://s3cr3t@x"})
    assert list(field_errors(response)) == ["url"]
    assert "s3cr3t" not in response.content.decode()
    assert not Channel.objects.filter(name="Bad").exists()


def test_it_names_a_foreign_client_reference(world, owner_api):
    other = Organization.objects.create(name="Other", slug="other")
    foreign = Client.objects.create(organization=other, name="Theirs", slug="theirs")
    errors = field_errors(
        owner_api.post("/sites", {"client": foreign.pk, "name": "X", "slug": "x"})
    )
    assert list(errors) == ["client"]
    errors = field_errors(owner_api.post("/sites", {"client": 999_999, "name": "X", "slug": "x"}))
    assert list(errors) == ["client"]
