"""Config as code for care plans and the plan each client has."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.configcode import (
    Action,
    ObjectKind,
    apply_config,
    apply_file,
    export_config,
)
from core.tests.configcode_support import refused
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from sla.plan_data import plan_terms
from tenancy.models import Organization

EXAMPLES = Path(__file__).parent.parent.parent / "examples"

DOCUMENT = """\
version: 1
agency: {slug: planned, name: Planned}
plans:
  - slug: office
    name: Office hours
    description: Weekdays only
    availability_target: 99.5
    time_zone: Europe/Warsaw
    business_hours: {monday: "8:00-16:00", tuesday: 08:00-16:00, friday: 08:00-14:00}
    holiday_country: pl
    closed_dates: [2026-12-31, 2026-12-24]
    exclude_maintenance: false
    targets:
      P1: {response_minutes: 60, resolution_minutes: 480}
      P3: {response_minutes: 480}
    support_hours: 2.5
    rpo_minutes: 1440
    monthly_fee: 490
    credits: [{below: 99, percent: 25}, {below: 99.5, percent: 10}]
  - slug: shop
    name: Shop 24/7
    availability_target: 99.95
    window: quarter
    monthly_fee: 1490.50
    currency: eur
clients:
  - slug: acme
    name: Acme
    plan: office
  - slug: globex
    name: Globex
    plan: shop
    monthly_fee: 1200
    plan_starts_on: 2026-10-01
  - slug: initech
    name: Initech
"""


def plan(slug: str) -> CarePlan:
    return CarePlan.objects.get(organization__slug="planned", slug=slug)


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_it_creates_plans_and_assigns_them_idempotently(db):
    report = apply_config(DOCUMENT)

    kinds = [(c.action, c.kind, c.label) for c in report.changes]
    assert (Action.CREATE, ObjectKind.PLAN, "office") in kinds
    office = plan("office")
    assert office.availability_target == Decimal("99.5")
    assert office.business_hours == {
        "monday": "08:00-16:00",
        "tuesday": "08:00-16:00",
        "friday": "08:00-14:00",
    }
    assert (office.holiday_country, office.exclude_maintenance) == ("PL", False)
    assert office.closed_dates == ["2026-12-24", "2026-12-31"]
    assert office.credits == [{"below": "99.5", "percent": "10"}, {"below": "99", "percent": "25"}]
    assert (office.p1_response_minutes, office.p1_resolution_minutes) == (60, 480)
    assert (office.p2_response_minutes, office.p3_response_minutes) == (None, 480)
    assert (office.support_hours, office.rpo_minutes, office.rto_minutes) == (
        Decimal("2.5"),
        1440,
        None,
    )
    shop = plan("shop")
    assert (shop.window, shop.currency, shop.monthly_fee) == ("quarter", "EUR", Decimal("1490.5"))
    assert shop.is_around_the_clock and shop.time_zone == "Europe/Warsaw"
    globex = ClientPlan.objects.get(client__slug="globex")
    assert (globex.plan, globex.monthly_fee, globex.starts_on) == (
        shop,
        Decimal(1200),
        date(2026, 10, 1),
    )
    assert ClientPlan.objects.get(client__slug="acme").fee == Decimal(490)
    assert not ClientPlan.objects.filter(client__slug="initech").exists()

    with CaptureQueriesContext(connection) as queries:
        again = apply_config(DOCUMENT)
    assert again.is_empty, again.render()
    assert writes(queries) == []
    assert again.unchanged == 1 + 2 + 3


def test_it_shows_plan_and_assignment_changes_in_a_dry_run(db):
    apply_config(DOCUMENT)
    before = list(CarePlan.objects.order_by("pk").values()), list(ClientPlan.objects.values())
    changed = (
        DOCUMENT.replace("P1: {response_minutes: 60,", "P1: {response_minutes: 30,")
        .replace("    plan: office\n", "    plan: shop\n")
        .replace("    monthly_fee: 1200\n", "")
    )
    report = apply_config(changed, dry_run=True)
    assert [c.render() for c in report.changes] == [
        "~ care plan office\n    targets.P1.response_minutes: 60 → 30",
        '~ client acme\n    plan: "office" → "shop"',
        '~ client globex\n    monthly_fee: "1200.00" → (not set)',
    ]
    assert (list(CarePlan.objects.order_by("pk").values()), list(ClientPlan.objects.values())) == (
        before
    )
    apply_config(changed)
    assert ClientPlan.objects.get(client__slug="acme").plan == plan("shop")
    assert ClientPlan.objects.get(client__slug="globex").fee == Decimal("1490.5")
    assert plan("office").p1_response_minutes == 30
    assert apply_config(changed).is_empty


def test_it_lists_a_new_plan_in_a_dry_run_and_writes_nothing(db):
    report = apply_config(DOCUMENT, dry_run=True)
    [office] = [c for c in report.changes if c.kind == ObjectKind.PLAN and c.label == "office"]
    shown = {f.field: f.new for f in office.fields}
    assert shown["targets.P1.response_minutes"] == "60"
    assert shown["availability_target"] == '"99.5"'
    assert "targets.P2.response_minutes" not in shown  # unset targets are not listed
    assert not CarePlan.objects.exists() and not Organization.objects.exists()


def test_it_round_trips_plans_through_export(db):
    apply_config(DOCUMENT)
    org = Organization.objects.get(slug="planned")
    text = export_config(org)
    assert "plans:" in text and "plan: shop" in text and "plan_starts_on: 2026-10-01" in text
    assert "availability_target: 99.95" in text
    assert "P2" not in text  # no targets for P2: nothing written
    CarePlan.objects.filter(slug="office").update(description="Costs ${price}")
    text = export_config(org)
    report = apply_config(text)
    assert report.is_empty, report.render()
    assert plan("office").description == "Costs ${price}"


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        ("tuesday: 08:00-16:00", "tuesday: 25:00-26:00", "plans[0].business_hours", "tuesday"),
        ("holiday_country: pl", "holiday_country: XX", "plans[0].holiday_country", "XX"),
        ("{below: 99, percent: 25}", "{below: 99}", "plans[0].credits", "tier 1"),
        ("availability_target: 99.5", "availability_target: 100.5", "availability_target", ""),
        ("availability_target: 99.95", "availability_target: 99.9999", "plans[1].avail", "3"),
        ("P3: {response_minutes: 480}", "P3: {response_minutes: 0}", "targets.P3.response", ""),
        ("P3: {response_minutes: 480}", "P5: {response_minutes: 1}", "plans[0].targets.P5", ""),
        ("closed_dates: [2026-12-31,", "closed_dates: [2026-13-31,", "closed_dates", "item 1"),
        ("currency: eur", "currency: euro", "plans[1].currency", "three-letter"),
        ("    window: quarter", "    window: year", "plans[1].window", ""),
        ("- slug: shop\n", "- slug: office\n", "plans[1].slug", "duplicate slug office"),
        ("    plan: office\n", "    plan: gold\n", "clients[0].plan", "no care plan gold"),
        ("  - slug: initech\n", "  - monthly_fee: 5\n    slug: x\n", "clients[2].monthly_fee", ""),
        ("    description: Weekdays only\n", "    colour: red\n", "plans[0].colour", "unknown"),
    ],
)
def test_it_refuses_bad_plans_with_their_yaml_path(db, old, new, path, words):
    assert old in DOCUMENT
    text = str(refused(DOCUMENT.replace(old, new)))
    assert path in text, text
    assert words in text, text
    assert not Organization.objects.exists() and not CarePlan.objects.exists()


def test_it_locates_a_plan_error_on_its_line(db):
    [issue] = refused(DOCUMENT.replace("friday: 08:00-14:00", "friday: 14:00-08:00")).issues
    assert (issue.path, issue.line) == ("plans[0].business_hours", 9)
    assert "friday: closing time must be after opening time" in issue.message


def test_it_assigns_a_plan_the_agency_already_has(db):
    org = Organization.objects.create(slug="planned", name="Planned")
    install_example_plans(org)
    text = DOCUMENT.replace("    plan: office\n", "    plan: enterprise\n")
    report = apply_config(text)
    assert ClientPlan.objects.get(client__slug="acme").plan == plan("enterprise")
    # The other examples are not in the file: kept and listed, like any other object.
    assert set(report.not_in_file) == {"care plan seasonal-shop", "care plan startup"}
    pruned = apply_config(text, prune=True)
    assert sorted(c.label for c in pruned.changes) == ["seasonal-shop", "startup"]
    assert CarePlan.objects.filter(organization=org).count() == 3  # enterprise is in use


def test_it_prunes_a_plan_a_client_just_left_in_one_transaction(db):
    apply_config(DOCUMENT)
    start, end = DOCUMENT.index("  - slug: office\n"), DOCUMENT.index("  - slug: shop\n")
    # Acme's step since always moves to shop; office is no longer in the file.
    without_office = (DOCUMENT[:start] + DOCUMENT[end:]).replace(
        "    plan: office\n", "    plan: shop\n"
    )
    assert "office" not in without_office
    kept = apply_config(without_office)
    assert "care plan office" in kept.not_in_file
    assert CarePlan.objects.filter(slug="office").exists()  # kept without --prune

    ClientPlan.objects.filter(client__slug="acme").update(plan=plan("office"))
    pruned = apply_config(without_office, prune=True)
    assert [(c.action, c.kind, c.label) for c in pruned.changes] == [
        (Action.UPDATE, ObjectKind.CLIENT, "acme"),
        (Action.DELETE, ObjectKind.PLAN, "office"),
    ]
    assert not CarePlan.objects.filter(slug="office").exists()
    assert ClientPlan.objects.get(client__slug="acme").plan == plan("shop")
    assert ClientPlan.objects.get(client__slug="globex").plan == plan("shop")


def test_it_keeps_with_prune_a_plan_still_in_a_clients_history(db):
    apply_config(DOCUMENT)
    start, end = DOCUMENT.index("  - slug: office\n"), DOCUMENT.index("  - slug: shop\n")
    # Acme moves to shop from November: its step since always keeps office.
    moved = (DOCUMENT[:start] + DOCUMENT[end:]).replace(
        "    plan: office\n", "    plan: shop\n    plan_starts_on: 2026-11-01\n"
    )
    for dry_run in (True, False):
        report = apply_config(moved, prune=True, dry_run=dry_run)
        assert [(c.action, c.kind, c.label) for c in report.changes] == [
            (Action.UPDATE, ObjectKind.CLIENT, "acme")
        ]
        assert report.not_in_file == ["care plan office (kept: in the plan history of acme)"]
    steps = ClientPlan.objects.filter(client__slug="acme").order_by("starts_on")
    assert [(s.starts_on, s.plan.slug if s.plan else None) for s in steps] == [
        (None, "office"),
        (date(2026, 11, 1), "shop"),
    ]


def test_it_ships_the_example_plans_in_the_example_file(db, monkeypatch):
    for name in ("KOWALSKI_SLACK_URL", "RAKIETA_TELEGRAM_URL", "NOWAK_MAIL_URL"):
        monkeypatch.setenv(name, "json://hooks.example/x")
    for name in ("POLMETAL_MAIL_URL", "POLMETAL_WEBHOOK_URL"):
        monkeypatch.setenv(name, "json://hooks.example/y")
    apply_file(EXAMPLES / "sites.yaml")
    reference = Organization.objects.create(slug="reference", name="Reference", language="en")
    installed = {p.slug: dict(plan_terms(p)) for p in install_example_plans(reference)}
    in_file = {
        p.slug: dict(plan_terms(p))
        for p in CarePlan.objects.filter(organization__slug="kowalski-digital")
    }
    assert in_file["startup"].pop("closed_dates") == ["2026-12-24", "2026-12-31"]
    installed["startup"].pop("closed_dates")
    assert in_file == installed
    assigned = {a.client.slug: a for a in ClientPlan.objects.select_related("client", "plan")}
    assert {slug: a.plan and a.plan.slug for slug, a in assigned.items()} == {
        "rakieta": "startup",
        "choinki-nowak": "seasonal-shop",
        "polmetal": "enterprise",
    }
    assert assigned["polmetal"].fee == Decimal(6200)
    assert assigned["choinki-nowak"].starts_on == date(2026, 11, 1)
