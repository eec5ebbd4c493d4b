"""Config as code and a client's plan history: the file describes the step of its
``plan_starts_on``, keeps the others, and export writes the current step."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.configcode import apply_config, export_config
from sla.models import ClientPlan
from tenancy.models import Client, Organization

OCTOBER = datetime(2026, 10, 20, 12, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 10, 12, tzinfo=UTC)

DOCUMENT = """\
version: 1
agency: {slug: planned, name: Planned}
plans:
  - {slug: office, name: Office hours, availability_target: 99.5, monthly_fee: 490}
  - {slug: shop, name: Shop 24/7, availability_target: 99.9, monthly_fee: 1490}
clients:
  - slug: acme
    name: Acme
    plan: office
  - slug: globex
    name: Globex
"""
UPGRADE = DOCUMENT.replace("    plan: office\n", "    plan: shop\n    plan_starts_on: 2026-11-01\n")


def steps(slug: str = "acme") -> list[tuple[date | None, str | None, Decimal | None]]:
    stored = ClientPlan.objects.filter(client__slug=slug).select_related("plan")
    return [
        (s.starts_on, s.plan.slug if s.plan else None, s.monthly_fee)
        for s in stored.order_by("starts_on")
    ]


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_it_adds_a_step_for_another_day_and_changes_the_step_of_the_same_day(db):
    apply_config(DOCUMENT)
    assert steps() == [(None, "office", None)]
    report = apply_config(UPGRADE, dry_run=True)
    assert [c.render() for c in report.changes] == [
        '~ client acme\n    plan: (not set) → "shop"\n    plan_starts_on: (not set) → "2026-11-01"'
    ]
    assert steps() == [(None, "office", None)]  # a dry run writes nothing
    apply_config(UPGRADE)
    assert steps() == [(None, "office", None), (date(2026, 11, 1), "shop", None)]
    with CaptureQueriesContext(connection) as queries:
        again = apply_config(UPGRADE)
    assert again.is_empty, again.render()
    assert writes(queries) == []
    # The same day again: that step changes, the one since always is kept.
    fee = UPGRADE.replace(
        "plan_starts_on: 2026-11-01\n", "plan_starts_on: 2026-11-01\n    monthly_fee: 1200\n"
    )
    report = apply_config(fee)
    assert [c.render() for c in report.changes] == [
        '~ client acme\n    monthly_fee: (not set) → "1200.00"'
    ]
    assert steps() == [(None, "office", None), (date(2026, 11, 1), "shop", Decimal(1200))]
    assert apply_config(fee).is_empty


def test_it_leaves_the_history_alone_for_a_client_without_plan(db):
    apply_config(DOCUMENT)
    apply_config(UPGRADE)
    ClientPlan.objects.create(client=Client.objects.get(slug="acme"), starts_on=date(2027, 1, 1))
    without = UPGRADE.replace("    plan: shop\n    plan_starts_on: 2026-11-01\n", "")
    report = apply_config(without, prune=True)
    assert report.is_empty, report.render()
    assert steps() == [
        (None, "office", None),
        (date(2026, 11, 1), "shop", None),
        (date(2027, 1, 1), None, None),
    ]


def test_it_exports_the_current_step_and_round_trips(db):
    apply_config(DOCUMENT)
    apply_config(UPGRADE)
    org = Organization.objects.get(slug="planned")
    with time_machine.travel(OCTOBER, tick=False):
        october = export_config(org)
        assert "\n  plan: office\n" in october and "plan_starts_on" not in october
        assert apply_config(october).is_empty
    with time_machine.travel(DECEMBER, tick=False):
        december = export_config(org)
        assert "\n  plan: shop\n  plan_starts_on: 2026-11-01\n" in december
        assert apply_config(december).is_empty
        ClientPlan.objects.create(
            client=Client.objects.get(slug="acme"), starts_on=date(2026, 12, 1)
        )
        ended = export_config(org)  # no plan now: the client's plan fields are left out
        assert "plan: shop" not in ended and "plan: office" not in ended
        assert apply_config(ended).is_empty
    assert len(steps()) == 3
