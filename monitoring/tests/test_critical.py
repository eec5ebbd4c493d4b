"""Which monitors count for the SLA: the per-kind default and every way a monitor is defined."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse
from pydantic import ValidationError

from api.tests.conftest import ApiCaller, field_errors
from core.configcode import apply_config, export_config
from monitoring.models import CheckKind, Monitor, default_critical
from monitoring.spec import monitor_as_data, parse_monitor
from tenancy.models import ApiToken, Organization

# A target each kind accepts (a heartbeat makes its own).
TARGETS = {
    CheckKind.HTTP: "https://shop.example/",
    CheckKind.TCP: "shop.example:587",
    CheckKind.TLS: "shop.example",
    CheckKind.DNS: "shop.example",
    CheckKind.DOMAIN: "shop.example",
    CheckKind.HEARTBEAT: "",
    CheckKind.SEO: "https://shop.example/",
    CheckKind.CONTENT: "https://shop.example/",
    CheckKind.TRANSACTION: "https://shop.example/",
    CheckKind.SPEED: "https://shop.example/",
}
# The options a kind cannot do without (a transaction needs a step).
CONFIGS: dict[str, dict[str, object]] = {
    CheckKind.TRANSACTION: {"steps": [{"action": "goto", "url": "/"}]},
}
CRITICAL_KINDS = {
    CheckKind.HTTP,
    CheckKind.TCP,
    CheckKind.DNS,
    CheckKind.HEARTBEAT,
    CheckKind.TRANSACTION,
}


def test_it_counts_availability_kinds_and_not_warning_kinds_by_default() -> None:
    assert set(TARGETS) == set(CheckKind)
    assert {kind for kind in CheckKind if default_critical(kind)} == CRITICAL_KINDS
    assert default_critical("a-kind-added-later")  # an outage unless said otherwise


@pytest.mark.parametrize("kind", list(CheckKind))
def test_it_takes_the_kinds_default_in_a_definition_that_does_not_say(kind: CheckKind) -> None:
    needed = CONFIGS.get(kind, {})
    definition = parse_monitor({"name": "M", "kind": kind, "url": TARGETS[kind], **needed}, [])
    assert definition.model_fields_for()["critical"] is (kind in CRITICAL_KINDS)
    stated = parse_monitor(
        {
            "name": "M",
            "kind": kind,
            "url": TARGETS[kind],
            "critical": kind not in CRITICAL_KINDS,
            **needed,
        },
        [],
    )
    assert stated.model_fields_for()["critical"] is (kind not in CRITICAL_KINDS)


def test_it_names_the_field_when_critical_is_not_a_yes_or_no() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_monitor({"name": "M", "url": "https://shop.example/", "critical": "perhaps"}, [])
    assert [error["loc"] for error in caught.value.errors()] == [("critical",)]


def test_it_writes_critical_back_only_when_it_differs_from_the_kinds_default(world) -> None:
    tls = Monitor.objects.create(
        site=world.site_a, name="Cert", kind=CheckKind.TLS, url="a.example", critical=False
    )
    assert "critical" not in monitor_as_data(tls)
    assert "critical" not in monitor_as_data(world.monitor_a)  # http, critical
    Monitor.objects.filter(pk=tls.pk).update(critical=True)
    tls.refresh_from_db()
    assert monitor_as_data(tls)["critical"] is True
    assert parse_monitor(monitor_as_data(tls), []).model_fields_for()["critical"] is True


# --- the API -------------------------------------------------------------------------------


def api_as(user: User) -> ApiCaller:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiCaller(raw)


def test_it_sets_and_shows_critical_through_the_api(world) -> None:
    api = api_as(world.owner)
    cert_body = {"name": "Cert", "kind": "tls", "url": "a.example"}
    cert = api.post("/monitors", {"site": world.site_a.pk, **cert_body})
    assert cert.status_code == 201, cert.content
    assert cert.json()["critical"] is False
    home = api.post(
        "/monitors",
        {"site": world.site_a.pk, "name": "Shop", "url": "https://a.example/s", "critical": False},
    )
    assert home.json()["critical"] is False
    cert_id = cert.json()["id"]
    assert api.patch(f"/monitors/{cert_id}", {"critical": True}).json()["critical"] is True
    # A PATCH of another field keeps it; a PUT that leaves it out takes the kind's default.
    assert api.patch(f"/monitors/{cert_id}", {"interval": 120}).json()["critical"] is True
    assert api.put(f"/monitors/{cert_id}", cert_body).json()["critical"] is False
    assert Monitor.objects.get(pk=cert_id).critical is False
    assert api.get(f"/monitors/{world.monitor_a.pk}").json()["critical"] is True
    assert list(field_errors(api.patch(f"/monitors/{cert_id}", {"critical": "perhaps"}))) == [
        "critical"
    ]


def test_it_hides_another_clients_monitor_and_its_flag(world) -> None:
    api = api_as(world.client_b_user)
    assert api.get(f"/monitors/{world.monitor_a.pk}").status_code == 404
    assert api.patch(f"/monitors/{world.monitor_a.pk}", {"critical": False}).status_code == 404
    world.monitor_a.refresh_from_db()
    assert world.monitor_a.critical is True


# --- config as code ------------------------------------------------------------------------

CONFIG = """
agency: {slug: crit-agency, name: Crit agency}
clients:
  - slug: shop
    name: Shop
    sites:
      - slug: www
        name: www
        monitors:
          - {name: Home, url: "https://shop.example/"}
          - {name: Cert, kind: tls, url: shop.example}
          - {name: Domain, kind: domain, url: shop.example, critical: true}
"""


def test_it_applies_and_exports_critical_as_code(db) -> None:
    apply_config(CONFIG)
    flags = dict(Monitor.objects.values_list("name", "critical"))
    assert flags == {"Home": True, "Cert": False, "Domain": True}
    text = export_config(Organization.objects.get(slug="crit-agency"))
    assert text.count("critical:") == 1 and "critical: true" in text
    assert apply_config(text).is_empty
    report = apply_config(CONFIG.replace("critical: true", "critical: false"))
    assert not report.is_empty
    assert Monitor.objects.get(name="Domain").critical is False


# --- the admin and the monitor page --------------------------------------------------------


def admin_form(world, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "site": world.site_a.pk,
        "name": "Cert",
        "kind": "tls",
        "url": "a.example",
        "config": "{}",
        "interval_s": 60,
        "timeout_s": 10,
        "confirm_down": 3,
        "confirm_up": 2,
        "recheck_s": 10,
        "enabled": "on",
        "critical": "unknown",
    }
    data.update(changes)
    return data


def test_it_takes_the_kinds_default_in_the_admin_unless_told(admin_client, world) -> None:
    add = reverse("admin:monitoring_monitor_add")
    assert admin_client.get(add).status_code == 200
    assert admin_client.post(add, admin_form(world)).status_code == 302
    cert = Monitor.objects.get(name="Cert")
    assert cert.critical is False
    change = reverse("admin:monitoring_monitor_change", args=[cert.pk])
    assert 'value="false" selected' in admin_client.get(change).content.decode()
    assert admin_client.post(change, admin_form(world, critical="true")).status_code == 302
    cert.refresh_from_db()
    assert cert.critical is True
    form = admin_form(world, name="Other cert")
    del form["critical"]  # a client that sends nothing gets the kind's default, not the column's
    assert admin_client.post(add, form).status_code == 302
    assert Monitor.objects.get(name="Other cert").critical is False


def test_it_shows_whether_a_monitor_counts_for_the_sla(world) -> None:
    browser = HttpClient()
    browser.force_login(world.client_a_user)
    page = browser.get(reverse("front:monitor", args=[world.monitor_a.pk]))
    assert "Counts for the SLA" in page.content.decode()
    other = HttpClient()
    other.force_login(world.client_b_user)
    assert other.get(reverse("front:monitor", args=[world.monitor_a.pk])).status_code == 404
