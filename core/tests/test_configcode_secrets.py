"""Secret monitor options in config as code: placeholders on export, never shown in a diff."""

from __future__ import annotations

import pytest

from core.configcode import apply_config, export_config
from monitoring.models import CheckKind, Monitor
from tenancy.models import Organization

TOKEN = "bearer-Tok3n-991"
PASSWORD = "basic-Pa55-417"
API_KEY = "hdr-key-Z20"
PREFIX = "SITECARE_MONITOR_CLIENT_A_SHOP_A_"
VARIABLES = {
    PREFIX + "HOME_BEARER_TOKEN": TOKEN,
    PREFIX + "HOME_HEADERS_X_API_KEY": API_KEY,
    PREFIX + "ADMIN_BASIC_AUTH_PASSWORD": PASSWORD,
    "SITECARE_CHANNEL_A_HOOK": "json://127.0.0.1:9/",
    "SITECARE_CHANNEL_B_HOOK": "json://127.0.0.1:9/",
}


@pytest.fixture
def agency(world) -> Organization:
    Monitor.objects.filter(pk=world.monitor_a.pk).update(
        config={"bearer_token": TOKEN, "headers": {"X-Api-Key": API_KEY}}
    )
    Monitor.objects.create(
        site=world.site_a,
        name="Admin",
        kind=CheckKind.HTTP,
        url="https://a.example/admin",
        config={"basic_auth": {"username": "ops", "password": PASSWORD}},
    )
    return world.agency


def _no_secret(text: str) -> bool:
    return all(secret not in text for secret in (TOKEN, PASSWORD, API_KEY))


def test_it_exports_secret_options_as_placeholders(agency):
    text = export_config(agency)
    assert _no_secret(text)
    for variable in VARIABLES:
        assert "${" + variable + "}" in text  # in the body
        assert f"#   {variable}  (" in text  # and listed in the header
    assert "username: ops" in text and "X-Api-Key:" in text


def test_it_round_trips_placeholders_through_apply_with_an_empty_diff(agency, monkeypatch):
    text = export_config(agency)
    for variable, value in VARIABLES.items():
        monkeypatch.setenv(variable, value)
    report = apply_config(text)
    assert report.is_empty, report.render()
    assert Monitor.objects.get(name="Admin").config["basic_auth"]["password"] == PASSWORD


def test_it_exports_secret_options_only_when_asked(agency):
    text = export_config(agency, include_secrets=True)
    assert TOKEN in text and PASSWORD in text and API_KEY in text
    assert "SITECARE_MONITOR_" not in text
    assert apply_config(text).is_empty


def test_it_never_prints_secret_options_in_a_diff(agency, monkeypatch):
    text = export_config(agency)
    for variable, value in VARIABLES.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv(PREFIX + "HOME_BEARER_TOKEN", "rotated-Tok3n")
    monkeypatch.setenv(PREFIX + "HOME_HEADERS_X_API_KEY", "rotated-key")
    changed = apply_config(text, dry_run=True).render()
    created = apply_config(text.replace("name: Admin", "name: Admin 2"), dry_run=True).render()
    for shown in (changed, created):
        assert _no_secret(shown) and "rotated" not in shown
    assert 'bearer_token: "***" → "***" (secret changed)' in changed
    assert 'headers: {"X-Api-Key": "***"} → {"X-Api-Key": "***"} (secret changed)' in changed
    assert 'basic_auth: {"username": "ops", "password": "***"}' in created


def test_it_keeps_a_heartbeat_token_across_applies_of_a_file_without_one(db):
    text = """
agency: {slug: beat, name: Beat agency}
clients:
  - slug: shop
    name: Shop
    sites:
      - slug: www
        name: WWW
        monitors:
          - {name: Nightly backup, kind: heartbeat, period: 86400, grace: 3600}
"""
    apply_config(text)
    token = Monitor.objects.get(name="Nightly backup").url
    assert len(token) >= 22
    assert apply_config(text).is_empty
    assert Monitor.objects.get(name="Nightly backup").url == token
