"""Config as code for maintenance windows: matched by title within their client."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.configcode import Action, ObjectKind, apply_config, export_config
from core.tests.configcode_support import refused
from incidents.maintenance import in_maintenance
from incidents.models import HeldOutage, Incident, MaintenanceWindow, Notification
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import Monitor, MonitorState
from sites.models import Site
from tenancy.models import Client, Organization

DOCUMENT = """\
version: 1
agency: {slug: windowed, name: Windowed}
clients:
  - slug: acme
    name: Acme
    channels:
      - {name: Acme hook, url: "json://hooks.example/acme"}
    sites:
      - slug: shop
        name: Shop
        time_zone: Europe/Warsaw
        monitors:
          - {name: Home, url: "https://shop.example/"}
      - slug: blog
        name: Blog
        time_zone: America/New_York
    maintenance:
      - title: Weekly updates
        site: shop
        description: Plugins and core updates.
        starts: 2026-12-06 02:00
        duration_minutes: 120
        repeat: freq=weekly; byday=SU
      - title: Server move
        starts: 2026-12-10 22:30:00
        duration_minutes: 90
        repeat:
  - slug: globex
    name: Globex
    maintenance:
      - {title: Weekly updates, starts: 2026-12-07 03:00, duration_minutes: 30}
"""


def window(client: str, title: str) -> MaintenanceWindow:
    return MaintenanceWindow.objects.select_related("site").get(client__slug=client, title=title)


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def rows() -> list[Any]:
    return list(MaintenanceWindow.objects.order_by("pk").values())


def test_it_creates_windows_and_applies_them_idempotently(db):
    report = apply_config(DOCUMENT)

    created = [(c.kind, c.label) for c in report.changes if c.action == Action.CREATE]
    assert (ObjectKind.WINDOW, "acme/Weekly updates") in created
    assert (ObjectKind.WINDOW, "globex/Weekly updates") in created  # titles are per client
    weekly = window("acme", "Weekly updates")
    assert (weekly.site, weekly.description) == (
        Site.objects.get(slug="shop"),
        "Plugins and core updates.",
    )
    assert (weekly.start_date, weekly.start_time, weekly.duration_minutes) == (
        date(2026, 12, 6),
        time(2),
        120,
    )
    assert weekly.rrule == "FREQ=WEEKLY;BYDAY=SU"  # stored in the model's normal form
    assert weekly.created_by is None and weekly.covers_until is None
    move = window("acme", "Server move")
    assert (move.site, move.local_start, move.rrule) == (None, datetime(2026, 12, 10, 22, 30), "")
    assert move.covers_until is not None  # a one-off ends

    with CaptureQueriesContext(connection) as queries:
        again = apply_config(DOCUMENT)
    assert again.is_empty, again.render()
    assert writes(queries) == []
    assert again.unchanged == 1 + 1 + 2 + 2 + 1 + 3  # agency, channel, clients, …, windows


def test_it_shows_window_changes_in_a_dry_run_and_writes_nothing(db):
    apply_config(DOCUMENT)
    before = rows()
    changed = (
        DOCUMENT.replace("duration_minutes: 120", "duration_minutes: 180")
        .replace("        site: shop\n", "        site: blog\n")
        .replace("starts: 2026-12-07 03:00", "starts: 2026-12-07 04:15")
        .replace(
            "        repeat:\n",
            "        repeat: FREQ=MONTHLY;BYMONTHDAY=10\n"
            "      - {title: Year end, starts: 2026-12-31 23:00, duration_minutes: 60}\n",
        )
    )
    report = apply_config(changed, dry_run=True)
    assert [c.render() for c in report.changes] == [
        '~ maintenance window acme/Weekly updates\n    site: "shop" → "blog"\n'
        "    duration_minutes: 120 → 180",
        '~ maintenance window acme/Server move\n    repeat: "" → "FREQ=MONTHLY;BYMONTHDAY=10"',
        "+ maintenance window acme/Year end\n"
        '    description: ""\n    starts: "2026-12-31 23:00"\n    duration_minutes: 60\n'
        '    repeat: ""',
        '~ maintenance window globex/Weekly updates\n    starts: "2026-12-07 03:00" → '
        '"2026-12-07 04:15"',
    ]
    assert rows() == before

    stamp = window("acme", "Weekly updates").updated_at
    apply_config(changed)
    weekly = window("acme", "Weekly updates")
    assert (weekly.site, weekly.duration_minutes) == (Site.objects.get(slug="blog"), 180)
    assert weekly.updated_at > stamp
    assert window("globex", "Weekly updates").start_time == time(4, 15)
    assert window("acme", "Server move").covers_until is None  # now it repeats for ever
    assert window("acme", "Year end").start_date == date(2026, 12, 31)
    assert apply_config(changed).is_empty


def test_it_shows_every_new_window_in_a_dry_run_of_a_new_agency(db):
    report = apply_config(DOCUMENT, dry_run=True)
    [weekly] = [c for c in report.changes if c.label == "acme/Weekly updates"]
    assert {f.field: f.new for f in weekly.fields} == {
        "site": '"shop"',
        "description": '"Plugins and core updates."',
        "starts": '"2026-12-06 02:00"',
        "duration_minutes": "120",
        "repeat": '"FREQ=WEEKLY;BYDAY=SU"',
    }
    assert not Organization.objects.exists() and not MaintenanceWindow.objects.exists()


def post_window(client, world, **fields: str):
    """Create a window through the web UI's form, as a person would."""
    client.force_login(world.owner)
    response = client.post(reverse("front:maintenance", args=[world.client_a.pk]), fields)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_it_exports_windows_made_in_the_web_ui_and_applies_them_back_unchanged(client, world):
    post_window(
        client,
        world,
        title="Sunday patching",
        site=str(world.site_a.pk),
        start_date="2026-11-01",
        start_time="02:00",
        duration_minutes="120",
        repeat="weekly",
        description="Costs ${nothing}: text, not a reference",
    )
    post_window(
        client,
        world,
        title="Database upgrade",
        start_date="2026-11-14",
        start_time="21:30",
        duration_minutes="45",
        repeat="custom",
        rrule="FREQ=MONTHLY;BYDAY=2SA;COUNT=3",
    )
    text = export_config(world.agency, include_secrets=True)
    assert "maintenance:" in text
    assert "starts: 2026-11-01 02:00" in text and "repeat: FREQ=WEEKLY;BYDAY=SU" in text
    assert "Costs $${nothing}" in text

    before = rows()
    report = apply_config(text)
    assert report.is_empty, report.render()
    assert rows() == before
    assert export_config(world.agency, include_secrets=True) == text


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        ("freq=weekly; byday=SU", "FREQ=MINUTELY", "maintenance[0].repeat", "at most hourly"),
        ("freq=weekly; byday=SU", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "[0].repeat", "never"),
        ("freq=weekly; byday=SU", "FREQ=DAILY;UNTIL=20251231", "[0].repeat", "before the start"),
        (
            "        site: shop\n",
            "        site: shopp\n",
            "clients[0].maintenance[0].site",
            "shopp",
        ),
        ("starts: 2026-12-06 02:00", "starts: 2026-12-06 25:00", "[0].starts", "YYYY-MM-DD HH:MM"),
        ("starts: 2026-12-06 02:00", "starts: 2026-12-06T02:00:00+01:00", "[0].starts", "offset"),
        ("starts: 2026-12-06 02:00", "starts: 2026-12-06", "[0].starts", "the time too"),
        ("starts: 2026-12-06 02:00", "starts: 1999-12-05 02:00", "[0].starts", "2000 and 2100"),
        ("duration_minutes: 120", "duration_minutes: 0", "[0].duration_minutes", "1"),
        ("duration_minutes: 90", "duration_minutes: 2h", "[1].duration_minutes", "whole number"),
        ("duration_minutes: 90", "duration_minutes: 99999999", "[1].duration_minutes", "44640"),
        ("title: Server move", "title: Weekly updates", "[1].title", "duplicate title"),
        (
            "        repeat:\n",
            "        every: week\n",
            "clients[0].maintenance[1].every",
            "unknown",
        ),
        ("- {title: Weekly updates, starts", "- {starts", "clients[1].maintenance[0].title", ""),
    ],
)
def test_it_refuses_bad_windows_with_their_yaml_path(db, old, new, path, words):
    assert old in DOCUMENT
    text = str(refused(DOCUMENT.replace(old, new)))
    assert path in text, text
    assert words in text, text
    assert not Organization.objects.exists() and not MaintenanceWindow.objects.exists()


def test_it_locates_a_window_error_on_its_line(db):
    [issue] = refused(DOCUMENT.replace("freq=weekly; byday=SU", "FREQ=WEEKLY;BYDAY=XX")).issues
    assert (issue.path, issue.line) == ("clients[0].maintenance[0].repeat", 23)
    assert "Not a valid RRULE" in issue.message


def test_it_refuses_a_site_of_another_client(db):
    text = DOCUMENT.replace(
        "      - {title: Weekly updates, starts",
        "      - {title: Weekly updates, site: shop, starts",
    )
    [issue] = refused(text).issues
    assert issue.path == "clients[1].maintenance[0].site"
    assert issue.message == "no site shop among this client's sites"


def test_it_refuses_a_title_that_matches_several_stored_windows(db):
    apply_config(DOCUMENT)
    twin = window("acme", "Server move")
    twin.pk = None
    twin.save()
    before = rows()
    [issue] = refused(DOCUMENT).issues
    assert (issue.path, issue.line) == ("clients[0].maintenance[1].title", 24)
    assert "2 stored maintenance windows of this client are titled Server move" in issue.message
    assert rows() == before


def without_server_move(text: str) -> str:
    start = text.index("      - title: Server move\n")
    end = text.index("  - slug: globex\n")
    return text[:start] + text[end:]


def test_it_keeps_windows_the_file_omits_unless_pruned(db):
    apply_config(DOCUMENT)
    acme = Client.objects.get(slug="acme")
    MaintenanceWindow.objects.create(
        client=acme,
        title="Made in the UI",
        start_date=date(2026, 12, 1),
        start_time=time(1),
        duration_minutes=30,
    )
    text = without_server_move(DOCUMENT)

    kept = apply_config(text)
    assert kept.is_empty
    assert sorted(kept.not_in_file) == [
        "maintenance window acme/Made in the UI",
        "maintenance window acme/Server move",
    ]
    assert MaintenanceWindow.objects.count() == 4

    preview = apply_config(text, prune=True, dry_run=True)
    assert MaintenanceWindow.objects.count() == 4
    pruned = apply_config(text, prune=True)
    expected = [
        (Action.DELETE, ObjectKind.WINDOW, "acme/Server move"),
        (Action.DELETE, ObjectKind.WINDOW, "acme/Made in the UI"),
    ]
    assert [(c.action, c.kind, c.label) for c in preview.changes] == expected
    assert [(c.action, c.kind, c.label) for c in pruned.changes] == expected
    assert sorted(MaintenanceWindow.objects.values_list("client__slug", "title")) == [
        ("acme", "Weekly updates"),
        ("globex", "Weekly updates"),
    ]
    assert apply_config(text, prune=True).is_empty


def test_it_moves_a_window_off_a_pruned_site_in_the_same_apply(db):
    apply_config(DOCUMENT.replace("        site: shop\n", "        site: blog\n"))
    start, end = DOCUMENT.index("      - slug: blog\n"), DOCUMENT.index("    maintenance:\n")
    text = DOCUMENT[:start] + DOCUMENT[end:]

    report = apply_config(text, prune=True)

    assert [(c.action, c.kind, c.label) for c in report.changes] == [
        (Action.UPDATE, ObjectKind.WINDOW, "acme/Weekly updates"),
        (Action.DELETE, ObjectKind.SITE, "acme/blog"),
    ]
    assert window("acme", "Weekly updates").site == Site.objects.get(slug="shop")
    assert not Site.objects.filter(slug="blog").exists()


def outcome(monitor: Monitor, at: datetime, ok: bool) -> Outcome:
    if ok:
        return Outcome(monitor.pk, at, ok=True, status_code=200, response_ms=20.0)
    return Outcome(monitor.pk, at, ok=False, failure_class=FailureClass.HTTP_STATUS, message="503")


def check(monitor: Monitor, at: datetime, ok: bool) -> None:
    with time_machine.travel(at, tick=False):
        record_results([outcome(monitor, at, ok)])


@pytest.mark.parametrize("site", ["        site: shop\n", ""])
def test_it_holds_an_outage_inside_a_window_from_the_file(db, site):
    apply_config(DOCUMENT.replace("        site: shop\n", site))
    monitor = Monitor.objects.get(name="Home")
    # Sunday 2026-12-13 02:30 in Warsaw (CET, UTC+1): the second week of the weekly window.
    outage = datetime(2026, 12, 13, 1, 30, tzinfo=UTC)
    assert in_maintenance(monitor, outage) == window("acme", "Weekly updates")
    assert in_maintenance(monitor, outage - timedelta(hours=1)) is None

    check(monitor, outage - timedelta(minutes=5), ok=True)
    for i in range(3):  # the first failure and 2 more confirm the outage
        check(monitor, outage + timedelta(seconds=10 * i), ok=False)

    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN
    hold = HeldOutage.objects.get(monitor=monitor)
    assert (hold.window, hold.released_at) == (window("acme", "Weekly updates"), None)
    assert not Incident.objects.exists() and not Notification.objects.exists()
