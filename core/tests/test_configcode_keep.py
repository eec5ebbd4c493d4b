"""Config as code keeps what the file leaves out: an omitted field keeps its stored value, a
stated one (empty list and null included) changes it; the dry run shows only what changes."""

from __future__ import annotations

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.configcode import ConfigError, apply_config, export_config
from core.configcode.keep import fill_omitted
from core.configcode.report import Action, ObjectKind
from incidents.models import Channel
from monitoring.models import Monitor
from sla.models import CarePlan
from tenancy.models import Organization

FULL = """\
version: 1
agency:
  slug: kept
  name: Kept
  network_allowlist: [127.0.0.0/8]
  flap_window_seconds: 120
channels:
  - name: Pager
    url: json://127.0.0.1:9/hook
    min_severity: critical
    title_template: "{state}"
plans:
  - slug: gold
    name: Gold
    availability_target: 99.9
    description: Our best
    support_hours: 4
clients:
  - slug: acme
    name: Acme
    sites:
      - slug: shop
        name: Shop
        url: https://shop.example
        time_zone: Europe/Warsaw
        monitors:
          - {name: Home, url: "http://127.0.0.1:8000/", interval: 120, keyword: Sale}
          - {name: Backup, kind: heartbeat, cron: "0 3 * * *", time_zone: Europe/Warsaw,
             grace: 600, max_runtime: 900}
"""

SHORT = """\
version: 1
agency: {slug: kept, name: Kept}
channels:
  - {name: Pager, url: "json://127.0.0.1:9/hook"}
plans:
  - {slug: gold, name: Gold, availability_target: 99.9}
clients:
  - slug: acme
    name: Acme
    sites:
      - slug: shop
        name: Shop
        monitors:
          - {name: Home, url: "http://127.0.0.1:8000/"}
          - {name: Backup}
"""


@pytest.fixture
def stored(db) -> Organization:
    apply_config(FULL)
    return Organization.objects.get(slug="kept")


def test_it_keeps_every_omitted_field_and_shows_no_change(stored):
    before = export_config(stored, include_secrets=True)

    dry = apply_config(SHORT, dry_run=True)
    report = apply_config(SHORT)

    assert dry.is_empty and report.is_empty, report.render()
    assert export_config(stored, include_secrets=True) == before
    stored.refresh_from_db()
    assert stored.ssrf_allowlist == "127.0.0.0/8" and stored.flap_window_seconds == 120
    pager = Channel.objects.get(name="Pager")
    assert (pager.min_severity, pager.title_template) == ("critical", "{state}")
    gold = CarePlan.objects.get(slug="gold")
    assert (gold.description, float(gold.support_hours)) == ("Our best", 4.0)
    home = Monitor.objects.get(name="Home")
    assert (home.interval_s, home.config) == (120, {"keyword": "Sale"})
    backup = Monitor.objects.get(name="Backup")
    assert backup.kind == "heartbeat" and backup.config["cron"] == "0 3 * * *"


def test_it_changes_a_field_stated_empty_or_null_and_shows_it_in_the_dry_run(stored):
    text = SHORT.replace(
        '{name: Pager, url: "json://127.0.0.1:9/hook"}',
        '{name: Pager, url: "json://127.0.0.1:9/hook", title_template: ""}',
    )
    text = text.replace(
        '{name: Home, url: "http://127.0.0.1:8000/"}',
        ('{name: Home, url: "http://127.0.0.1:8000/", keyword: null}'),
    )
    text = text.replace("{name: Backup}", "{name: Backup, max_runtime: null}")
    text = text.replace("availability_target: 99.9}", "availability_target: 99.9, description: ''}")

    dry = apply_config(text, dry_run=True)

    changed = {(c.kind, c.label): {f.field for f in c.fields} for c in dry.changes}
    assert changed == {
        (ObjectKind.CHANNEL, "Pager"): {"title_template"},
        (ObjectKind.PLAN, "gold"): {"description"},
        (ObjectKind.MONITOR, "acme/shop/Home"): {"keyword"},
        (ObjectKind.MONITOR, "acme/shop/Backup"): {"max_runtime"},
    }
    assert all(c.action == Action.UPDATE for c in dry.changes)
    assert Channel.objects.get(name="Pager").title_template == "{state}"  # nothing written
    apply_config(text)
    assert Channel.objects.get(name="Pager").title_template == ""
    assert Monitor.objects.get(name="Home").config == {}
    assert "max_runtime" not in Monitor.objects.get(name="Backup").config
    assert CarePlan.objects.get(slug="gold").description == ""


def test_it_judges_monitors_with_the_stored_allowlist_when_the_file_omits_it(stored):
    # The stored allowlist admits 127.0.0.1; a file without the key keeps it, so a loopback
    # monitor stays valid. Stating an empty allowlist refuses it, at the monitor's path.
    apply_config(SHORT)
    empty = SHORT.replace(
        "{slug: kept, name: Kept}", "{slug: kept, name: Kept, network_allowlist: []}"
    )
    with pytest.raises(ConfigError) as refused:
        apply_config(empty)
    assert "clients[0].sites[0].monitors[0].url" in str(refused.value)


def test_it_reports_a_combination_the_stored_values_make_invalid_at_its_path(stored):
    text = SHORT.replace("{name: Backup}", "{name: Backup, period: 3600}")
    with pytest.raises(ConfigError) as refused:
        apply_config(text)
    assert "clients[0].sites[0].monitors[1]" in str(refused.value)
    assert "either period or cron" in str(refused.value)
    fixed = SHORT.replace(
        "{name: Backup}", "{name: Backup, period: 3600, cron: null, time_zone: UTC}"
    )
    apply_config(fixed)
    assert Monitor.objects.get(name="Backup").config.get("period") == 3600


def test_it_keeps_a_paused_monitor_paused_when_the_file_omits_enabled(stored):
    Monitor.objects.filter(name="Home").update(enabled=False)
    assert apply_config(SHORT).is_empty
    assert not Monitor.objects.get(name="Home").enabled


def test_it_exports_a_ping_token_as_a_placeholder_and_keeps_it_on_import(stored):
    token = Monitor.objects.get(name="Backup").url
    text = export_config(stored)
    variable = "SITECARE_MONITOR_ACME_SHOP_BACKUP_TOKEN"
    assert token not in text
    assert "${" + variable + ":-}" in text and f"#   {variable}  (" in text
    assert apply_config(
        text, environ={"SITECARE_CHANNEL_PAGER": "json://127.0.0.1:9/hook"}
    ).is_empty
    assert Monitor.objects.get(name="Backup").url == token
    assert token in export_config(stored, include_secrets=True)


def test_it_sets_a_ping_token_from_the_placeholder_when_given(stored):
    text = export_config(stored)
    new = "N" * 30
    apply_config(
        text,
        environ={
            "SITECARE_MONITOR_ACME_SHOP_BACKUP_TOKEN": new,
            "SITECARE_CHANNEL_PAGER": "json://127.0.0.1:9/hook",
        },
    )
    assert Monitor.objects.get(name="Backup").url == new


def test_it_lets_a_channel_move_between_owners_without_its_old_site(stored):
    moved = SHORT.replace('channels:\n  - {name: Pager, url: "json://127.0.0.1:9/hook"}\n', "")
    moved = moved.replace(
        "    name: Acme\n",
        '    name: Acme\n    channels:\n      - {name: Pager, url: "json://127.0.0.1:9/hook", '
        "site: shop}\n",
    )
    apply_config(moved)
    pager = Channel.objects.select_related("client", "site").get(name="Pager")
    assert pager.client is not None and pager.site is not None and pager.site.slug == "shop"
    assert pager.min_severity == "critical"  # omitted: kept through the move
    report = apply_config(SHORT)  # back to the agency: the client's site does not follow
    assert [c.kind for c in report.changes] == [ObjectKind.CHANNEL]
    pager.refresh_from_db()
    assert (pager.client_id, pager.site_id, pager.min_severity) == (None, None, "critical")


def _agency_with(sites: int) -> str:
    listed = "".join(
        f"      - slug: s{i}\n        name: S{i}\n        monitors:\n"
        f'          - {{name: Home, url: "http://127.0.0.1:8000/{i}"}}\n'
        for i in range(sites)
    )
    page = (
        "    status_pages:\n      - slug: sp\n        title: SP\n        components:\n"
        "          - {site: s0, monitor: Home, name: Home}\n"
    )
    return (
        "version: 1\nagency: {slug: many, name: Many, network_allowlist: [127.0.0.0/8]}\n"
        f"clients:\n  - slug: c\n    name: C\n    sites:\n{listed}{page}"
    )


@pytest.mark.parametrize("sites", [2, 12])
def test_it_reads_the_stored_objects_in_a_constant_number_of_queries(db, sites):
    text = _agency_with(sites)
    apply_config(text)
    data = yaml.safe_load(text)
    with CaptureQueriesContext(connection) as queries:
        filled = fill_omitted(data)
    assert len(queries) == 9  # the agency, its plans and seven kinds of objects
    assert filled["clients"][0]["sites"][1]["monitors"][0]["kind"] == "http"
