"""The migration to plan histories keeps each client's plan as the client's one step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sitecare.tests.migrating import rewound

# Agencies as they were then, too: later tenancy fields do not exist in that state.
BEFORE = [("sla", "0001_care_plans"), ("tenancy", "0002_flap_window")]
AFTER = [("sla", "0002_client_plan_history")]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_each_clients_plan_as_a_step() -> None:
    with rewound(BEFORE) as database:
        old = database.apps
        agency = old.get_model("tenancy", "Organization").objects.create(name="A", slug="a")
        clients = old.get_model("tenancy", "Client").objects
        plan = old.get_model("sla", "CarePlan").objects.create(
            organization=agency, name="Shop", slug="shop", availability_target=Decimal("99.9")
        )
        steps = old.get_model("sla", "ClientPlan").objects
        acme = clients.create(organization=agency, name="Acme", slug="acme")
        globex = clients.create(organization=agency, name="Globex", slug="globex")
        steps.create(client=acme, plan=plan, monthly_fee=Decimal(100))
        steps.create(client=globex, plan=plan, starts_on=date(2026, 10, 1))

        new = database.migrate(AFTER).get_model("sla", "ClientPlan").objects
        kept = new.order_by("client__slug").values_list(
            "client__slug", "plan__slug", "monthly_fee", "starts_on"
        )
        assert list(kept) == [
            ("acme", "shop", Decimal(100), None),
            ("globex", "shop", None, date(2026, 10, 1)),
        ]
        # Now a history: Acme may get a second step, without a plan.
        new.create(client_id=acme.pk, plan=None, starts_on=date(2027, 1, 1))
        assert new.filter(client_id=acme.pk).count() == 2
