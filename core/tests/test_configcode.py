"""Config as code: validate whole, diff, apply in one transaction, idempotent, export back."""

from __future__ import annotations

import os
import re
import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.configcode import (
    Action,
    ConfigError,
    ObjectKind,
    apply_config,
    apply_file,
    export_config,
)
from core.configcode.export import placeholder_name
from incidents.models import Channel, StatusPage
from monitoring.models import CheckKind, Monitor, MonitorState
from sites.models import Site
from tenancy.models import Client, Organization

HERE = Path(__file__).parent
FILE = HERE / "configfiles" / "agency.yaml"
EXAMPLES = HERE.parent.parent / "examples"
OPS_TOKEN = "s3cr3t-ops-token-5581"
ACME_PASSWORD = "pa55-acme-secret-77"


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("TEST_OPS_HOOK_URL", f"json://hooks.example/ops?token={OPS_TOKEN}")
    monkeypatch.setenv("TEST_ACME_SMTP_PASSWORD", ACME_PASSWORD)
    monkeypatch.delenv("TEST_INTERVAL", raising=False)


def snapshot() -> dict[str, list[Any]]:
    """Every row config-as-code may touch, to prove a rejected file changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Organization, Client, Site, Monitor, Channel)
    }


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


# --- apply --------------------------------------------------------------------------------


def test_it_creates_everything_the_file_describes(db, env):
    report = apply_file(FILE)

    org = Organization.objects.get(slug="test-agency")
    assert (org.name, org.language, org.ssrf_allowlist) == ("Test agency", "pl", "10.20.0.0/16")
    assert sorted(Client.objects.filter(organization=org).values_list("slug", flat=True)) == [
        "acme",
        "globex",
    ]
    blog = Site.objects.get(client__slug="acme", slug="blog")
    assert blog.time_zone == "Europe/London"
    checkout = Monitor.objects.get(site__slug="shop", name="Checkout")
    assert (checkout.interval_s, checkout.timeout_s) == (30, 5.0)
    assert Monitor.objects.get(site__slug="blog").config == {"method": "HEAD"}
    assert Monitor.objects.get(site__slug="www").enabled is False
    assert Monitor.objects.get(name="Intranet").url == "http://10.20.1.2/status"
    ops = Channel.objects.get(name="Ops webhook")
    assert ops.client is None and OPS_TOKEN in ops.url
    assert Channel.objects.get(name="ACME mail").client == Client.objects.get(slug="acme")
    assert report.count(Action.CREATE) == 1 + 2 + 3 + 5 + 2
    assert report.count(Action.UPDATE) == report.count(Action.DELETE) == 0


def test_it_writes_nothing_when_the_same_file_is_applied_twice(db, env):
    apply_file(FILE)
    stamps = dict(Monitor.objects.values_list("pk", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        report = apply_file(FILE)

    assert report.is_empty and report.changes == []
    assert writes(queries) == []
    assert dict(Monitor.objects.values_list("pk", "updated_at")) == stamps
    assert "No changes" in report.render()
    assert report.unchanged == 13


def test_it_reads_an_interval_from_the_environment_as_a_number(db, env, monkeypatch):
    monkeypatch.setenv("TEST_INTERVAL", "45")
    apply_file(FILE)
    assert Monitor.objects.get(name="Checkout").interval_s == 45


def test_it_updates_only_the_changed_fields_and_keeps_the_monitor_state(db, env, monkeypatch):
    apply_file(FILE)
    home = Monitor.objects.get(site__slug="shop", name="Home")
    Monitor.objects.filter(pk=home.pk).update(state=MonitorState.DOWN, streak_count=7)
    # An omitted field keeps its value: dropping the keyword takes an explicit null.
    text = FILE.read_text().replace(
        "interval: 60, keyword: Add to cart", "interval: 120, keyword: null"
    )

    with CaptureQueriesContext(connection) as queries:
        report = apply_config(text)

    [change] = report.changes
    assert (change.action, change.kind, change.label) == (
        Action.UPDATE,
        ObjectKind.MONITOR,
        "acme/shop/Home",
    )
    shown = {f.field: (f.old, f.new) for f in change.fields}
    assert shown == {"interval": ("60", "120"), "keyword": ('"Add to cart"', "(not set)")}
    home.refresh_from_db()
    assert (home.interval_s, home.config, home.state, home.streak_count) == (
        120,
        {},
        MonitorState.DOWN,
        7,
    )
    [update] = writes(queries)
    assert '"state"' not in update and '"streak_count"' not in update


def test_it_writes_nothing_in_a_dry_run(db, env):
    before = snapshot()
    report = apply_file(FILE, dry_run=True)
    assert snapshot() == before
    assert report.count(Action.CREATE) == 13
    assert "Dry run: nothing was written." in report.render()


def test_it_shows_a_dry_run_of_changes_to_existing_objects(db, env):
    apply_file(FILE)
    before = snapshot()
    text = FILE.read_text().replace("name: ACME Shop", "name: ACME Store")
    report = apply_config(text, dry_run=True)
    assert [c.render() for c in report.changes] == [
        '~ client acme\n    name: "ACME Shop" → "ACME Store"'
    ]
    assert snapshot() == before


def test_it_moves_a_channel_between_a_client_and_the_agency(db, env):
    apply_file(FILE)
    text = FILE.read_text().replace("clients:\n  - slug: acme", "clients:\n  - slug: acme", 1)
    text = text.replace(
        "channels:\n  - name: Ops webhook\n    url: ${TEST_OPS_HOOK_URL}\n", "channels: []\n"
    ).replace(
        "    sites:\n      - slug: www",
        "    channels:\n      - {name: Ops webhook, url: "
        '"${TEST_OPS_HOOK_URL}"}\n    sites:\n      - slug: www',
    )
    [change] = apply_config(text).changes
    assert change.render() == '~ channel Ops webhook\n    client: (not set) → "globex"'
    assert Channel.objects.get(name="Ops webhook").client_id == Client.objects.get(slug="globex").pk


# --- secrets ------------------------------------------------------------------------------


def test_it_stores_channel_urls_encrypted_and_never_prints_them(db, env, monkeypatch):
    created = apply_file(FILE).render()
    monkeypatch.setenv("TEST_OPS_HOOK_URL", "json://hooks.example/ops?token=rotated-token-9")
    updated = apply_file(FILE, dry_run=True).render()

    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM incidents_channel")
        raw = " ".join(row[0] for row in cursor.fetchall())
    for secret in (OPS_TOKEN, ACME_PASSWORD, "hooks.example"):
        assert secret not in raw
    for text in (created, updated):
        assert OPS_TOKEN not in text and ACME_PASSWORD not in text and "rotated" not in text
    assert "json://hooks.example/***" in created
    assert "url: json://hooks.example/*** → json://hooks.example/*** (secret changed)" in updated


def test_it_compares_secrets_decrypted_so_reapplying_keeps_them(db, env):
    apply_file(FILE)
    stored = Channel.objects.get(name="Ops webhook")
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM incidents_channel WHERE id = %s", [stored.pk])
        ciphertext = cursor.fetchone()[0]
    assert apply_file(FILE).is_empty
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM incidents_channel WHERE id = %s", [stored.pk])
        assert cursor.fetchone()[0] == ciphertext


# --- bad input ----------------------------------------------------------------------------


def test_it_changes_nothing_stored_when_the_file_is_bad(db, env):
    apply_file(FILE)
    before = snapshot()
    good_changes = FILE.read_text().replace("name: ACME Shop", "name: Renamed")
    bad = good_changes.replace("interval: 60,", "interval: -1,")
    with pytest.raises(ConfigError):
        apply_config(bad, prune=True)
    assert snapshot() == before


# --- prune --------------------------------------------------------------------------------


def world_rows(org: Organization) -> list[list[Any]]:
    return [
        list(Client.objects.filter(organization=org).values()),
        list(Site.objects.filter(client__organization=org).values()),
        list(Monitor.objects.filter(site__client__organization=org).values()),
        list(Channel.objects.filter(organization=org).values()),
    ]


INTRANET = '          - {name: Intranet, url: "http://10.20.1.2/status", expected_status: "200"}\n'


def test_it_prunes_only_the_agencys_objects_missing_from_the_file(world, env):
    apply_file(FILE)
    other = world_rows(world.agency)
    trimmed = FILE.read_text().replace(INTRANET, "").split("  - slug: globex")[0]

    kept = apply_config(trimmed)
    assert kept.changes == [] and "monitor acme/shop/Intranet" in kept.not_in_file
    assert "client globex" in kept.not_in_file
    assert Monitor.objects.filter(name="Intranet").exists()

    pruned = apply_config(trimmed, prune=True)
    assert sorted((c.kind, c.label) for c in pruned.changes) == [
        (ObjectKind.CLIENT, "globex"),
        (ObjectKind.MONITOR, "acme/shop/Intranet"),
    ]
    assert all(c.action == Action.DELETE for c in pruned.changes)
    assert not Monitor.objects.filter(name="Intranet").exists()
    assert not Client.objects.filter(slug="globex").exists()
    assert apply_config(trimmed, prune=True).is_empty
    # The other agency (the "world" fixture) is untouched.
    assert world_rows(world.agency) == other


def test_it_prunes_nothing_in_a_dry_run(db, env):
    apply_file(FILE)
    before = snapshot()
    report = apply_config(FILE.read_text().split("  - slug: globex")[0], prune=True, dry_run=True)
    assert [c.render() for c in report.changes] == [
        "- client globex (with its 1 sites and 1 monitors)"
    ]
    assert snapshot() == before


# --- export -------------------------------------------------------------------------------


def test_it_round_trips_an_export_through_apply_with_an_empty_diff(world, monkeypatch):
    Organization.objects.filter(pk=world.agency.pk).update(ssrf_allowlist="10.0.0.0/8\n# lab")
    Monitor.objects.filter(pk=world.monitor_a.pk).update(
        interval_s=30, config={"keyword": "Price: ${price}", "method": "POST"}
    )
    text = export_config(Organization.objects.get(pk=world.agency.pk))

    assert "json://127.0.0.1:9/" not in text
    assert "SITECARE_CHANNEL_A_HOOK" in text and "SITECARE_CHANNEL_B_HOOK" in text
    monkeypatch.setenv("SITECARE_CHANNEL_A_HOOK", "json://127.0.0.1:9/")
    monkeypatch.setenv("SITECARE_CHANNEL_B_HOOK", "json://127.0.0.1:9/")
    report = apply_config(text)
    assert report.is_empty, report.render()
    assert report.unchanged == 1 + 2 + 2 + 2 + 2


def test_it_exports_secrets_only_when_asked(db, env):
    apply_file(FILE)
    org = Organization.objects.get(slug="test-agency")
    plain = export_config(org)
    assert OPS_TOKEN not in plain and ACME_PASSWORD not in plain
    assert "${SITECARE_CHANNEL_OPS_WEBHOOK}" in plain
    with_secrets = export_config(org, include_secrets=True)
    assert OPS_TOKEN in with_secrets and "keep it private" in with_secrets
    assert apply_config(with_secrets).is_empty


def test_it_names_placeholders_from_channel_names():
    taken: set[str] = set()
    assert placeholder_name("Dyżury Słack", taken) == "SITECARE_CHANNEL_DYZURY_SLACK"
    assert placeholder_name("dyżury-słack", taken) == "SITECARE_CHANNEL_DYZURY_SLACK_2"
    assert placeholder_name("!!!", taken) == "SITECARE_CHANNEL_CHANNEL"


# --- commands -----------------------------------------------------------------------------


def test_it_applies_with_the_command_and_shows_the_diff(db, env):
    out = StringIO()
    call_command("apply", str(FILE), "--dry-run", stdout=out)
    assert "+ client acme" in out.getvalue() and not Client.objects.exists()

    call_command("apply", str(FILE), stdout=out)
    again = StringIO()
    call_command("apply", str(FILE), stdout=again)
    assert "No changes" in again.getvalue()
    assert Client.objects.count() == 2


def test_it_prints_every_error_and_fails_the_command(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agency: {slug: a, name: A}\nclients: [{slug: c, name: C, sites: [{slug: s, name: S, "
        "monitors: [{name: H, url: 'ftp://x', interval: -1}]}]}]\n"
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 errors"):
        call_command("apply", str(bad), stderr=err)
    assert "monitors[0].url:" in err.getvalue() and "monitors[0].interval:" in err.getvalue()
    assert not Organization.objects.exists()
    with pytest.raises(CommandError, match="1 error"):
        call_command("apply", str(tmp_path / "missing.yaml"), stderr=StringIO())


def test_it_exports_with_the_command(db, env, tmp_path):
    apply_file(FILE)
    out = StringIO()
    call_command("export", "--agency", "test-agency", stdout=out)
    assert out.getvalue().startswith("# ") and "slug: test-agency" in out.getvalue()
    target = tmp_path / "secret.yaml"
    call_command(
        "export",
        "--agency",
        "test-agency",
        "-o",
        str(target),
        "--include-secrets",
        stderr=StringIO(),
    )
    assert OPS_TOKEN in target.read_text()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    with pytest.raises(CommandError, match="No agency"):
        call_command("export", "--agency", "nobody")


# --- examples -----------------------------------------------------------------------------


def test_it_accepts_the_example_agency_file(db, monkeypatch):
    for name, url in {
        "KOWALSKI_SLACK_URL": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#dyzury",
        "RAKIETA_TELEGRAM_URL": "tgram://123456789:abcdefg_hijklmnop/-1001234",
        "NOWAK_MAIL_URL": "mailtos://alerty:pw@poczta.example?to=sklep@choinki-nowak.example",
        "POLMETAL_MAIL_URL": "mailtos://noc:pw@smtp.polmetal.example?to=it@polmetal.example",
        "POLMETAL_WEBHOOK_URL": "jsons://noc.polmetal.example/hooks/sitecare",
    }.items():
        monkeypatch.setenv(name, url)
    report = apply_file(EXAMPLES / "sites.yaml")
    assert Client.objects.count() == 3 and Monitor.objects.count() == 12
    # The agency, 2 tags, 5 channels, 3 care plans, 3 clients, 5 sites, 12 monitors, 1 window.
    assert report.count(Action.CREATE) == 1 + 2 + 5 + 3 + 3 + 5 + 12 + 1
    assert sorted(t.name for t in Monitor.objects.get(name="Koszyk").tags.all()) == [
        "Checkout",
        "Sklepy",
    ]
    assert apply_file(EXAMPLES / "sites.yaml").is_empty


def test_it_loads_the_demo_configuration_with_its_defaults(db, monkeypatch):
    for name in ("SITECARE_DEMO_PORT", "SITECARE_DEMO_INTERVAL", "SITECARE_DEMO_ALERT_URL"):
        monkeypatch.delenv(name, raising=False)
    apply_file(EXAMPLES / "demo.yaml")
    org = Organization.objects.get(slug="demo")
    assert org.allowed_networks() != ()
    assert Channel.objects.get(organization=org).url == "json://127.0.0.1:8001/_inbox"
    monitors = {m.name: m for m in Monitor.objects.filter(site__client__organization=org)}
    assert set(monitors) == {
        "Home",
        "Product page",
        "Checkout",
        "Health",
        "Purchase",
        "Home page speed",
    }
    assert monitors["Checkout"].url == "http://127.0.0.1:8001/checkout"
    assert monitors["Checkout"].config == {"keyword": '"status": "ok"'}
    http = [m for m in monitors.values() if m.kind == CheckKind.HTTP]
    assert {(m.interval_s, m.confirm_down) for m in http} == {(15, 2)}
    page = StatusPage.objects.get(client__organization=org)
    assert (page.slug, page.published, page.allow_subscriptions) == ("demo-shop", True, True)
    shown = page.components.order_by("position").values_list("name", "monitor__name")
    assert list(shown) == [("Shop", "Home"), ("Checkout", "Checkout")]


def test_it_follows_the_demo_environment(db, monkeypatch, settings):
    settings.SITECARE_MIN_INTERVAL_SECONDS = 1
    monkeypatch.setenv("SITECARE_DEMO_PORT", "9100")
    monkeypatch.setenv("SITECARE_DEMO_INTERVAL", "2")
    monkeypatch.delenv("SITECARE_DEMO_ALERT_URL", raising=False)
    apply_file(EXAMPLES / "demo.yaml")
    assert Channel.objects.get().url == "json://127.0.0.1:9100/_inbox"
    http = Monitor.objects.filter(kind=CheckKind.HTTP)
    assert set(http.values_list("interval_s", flat=True)) == {2}
    monkeypatch.setenv("SITECARE_DEMO_ALERT_URL", "json://127.0.0.1:9200/hook")
    [change] = apply_file(EXAMPLES / "demo.yaml").changes
    assert change.kind == ObjectKind.CHANNEL


def test_it_round_trips_the_demo_through_export(db, monkeypatch):
    for name in ("SITECARE_DEMO_PORT", "SITECARE_DEMO_INTERVAL", "SITECARE_DEMO_ALERT_URL"):
        monkeypatch.delenv(name, raising=False)
    apply_file(EXAMPLES / "demo.yaml")
    text = export_config(Organization.objects.get(slug="demo"))
    assert "- ::1/128" in text or "- '::1/128'" in text
    assert "4242" not in text, "the purchase's test card is exported as a placeholder"
    monkeypatch.setenv("SITECARE_CHANNEL_DEMO_INBOX", "json://127.0.0.1:8001/_inbox")
    [card] = [name for name in re.findall(r"(?<!\$)\$\{(\w+)\}", text) if name.endswith("CARD")]
    monkeypatch.setenv(card, "4242 4242 4242 4242")
    assert apply_config(text).is_empty
