"""``/api/v1/clients/{id}/plan``: the current step, the history, and writing one step."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from api.tests.conftest import ApiCaller, field_errors
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from tenancy.models import ApiToken

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)
NOT_FOUND = {"detail": "Not found", "errors": []}


@pytest.fixture
def as_user():
    def make(user) -> ApiCaller:
        _token, raw = ApiToken.issue(user, "tests")
        return ApiCaller(raw)

    return make


@pytest.fixture
def history(world) -> dict[str, CarePlan]:
    """Client A: Start-up since always, Enterprise from 1 March 2026 at an agreed fee, no plan
    from 2027."""
    plans = {plan.slug: plan for plan in install_example_plans(world.agency)}
    for starts_on, plan, fee in (
        (None, plans["startup"], None),
        (date(2026, 3, 1), plans["enterprise"], Decimal(6000)),
        (date(2027, 1, 1), None, None),
    ):
        ClientPlan.objects.create(
            client=world.client_a, plan=plan, monthly_fee=fee, starts_on=starts_on
        )
    return plans


def summary(plan: CarePlan) -> dict[str, object]:
    return {"id": plan.pk, "slug": plan.slug, "name": plan.name}


@time_machine.travel(NOW, tick=False)
def test_it_answers_the_current_step_and_the_whole_history(world, history, as_user):
    answer = as_user(world.client_a_user).get(f"/clients/{world.client_a.pk}/plan").json()
    assert answer["plan"]["slug"] == "enterprise"
    assert (answer["agreed_monthly_fee"], answer["monthly_fee"], answer["starts_on"]) == (
        "6000.00",
        "6000.00",
        "2026-03-01",
    )
    assert answer["history"] == [
        {
            "plan": summary(history["startup"]),
            "agreed_monthly_fee": None,
            "monthly_fee": "490.00",
            "starts_on": None,
            "current": False,
            "scheduled": False,
        },
        {
            "plan": summary(history["enterprise"]),
            "agreed_monthly_fee": "6000.00",
            "monthly_fee": "6000.00",
            "starts_on": "2026-03-01",
            "current": True,
            "scheduled": False,
        },
        {
            "plan": None,
            "agreed_monthly_fee": None,
            "monthly_fee": None,
            "starts_on": "2027-01-01",
            "current": False,
            "scheduled": True,
        },
    ]


@time_machine.travel(NOW, tick=False)
def test_it_writes_the_step_of_the_day_given_and_keeps_the_others(world, history, as_user):
    owner = as_user(world.owner)
    url = f"/clients/{world.client_a.pk}/plan"
    shop = history["seasonal-shop"]
    # The step of 1 March changes; nothing is added.
    answer = owner.put(url, {"plan": shop.pk, "monthly_fee": None, "starts_on": "2026-03-01"})
    assert answer.status_code == 200, answer.content
    assert (answer.json()["plan"]["slug"], answer.json()["monthly_fee"]) == (
        "seasonal-shop",
        "1490.00",
    )
    assert ClientPlan.objects.filter(client=world.client_a).count() == 3
    # A new day adds a step: no plan from December, scheduled.
    answer = owner.put(url, {"plan": None, "starts_on": "2026-12-01"}).json()
    assert [(s["starts_on"], s["scheduled"]) for s in answer["history"]] == [
        (None, False),
        ("2026-03-01", False),
        ("2026-12-01", True),
        ("2027-01-01", True),
    ]
    assert owner.delete(f"{url}?starts_on=2026-03-01").status_code == 204
    current = owner.get(url).json()
    assert (current["plan"]["slug"], current["starts_on"]) == ("startup", None)
    stored = ClientPlan.objects.filter(client=world.client_a).order_by("starts_on")
    assert [s.starts_on for s in stored] == [None, date(2026, 12, 1), date(2027, 1, 1)]


def test_it_refuses_a_fee_without_a_plan_and_a_bad_day_naming_the_field(world, history, as_user):
    owner = as_user(world.owner)
    url = f"/clients/{world.client_a.pk}/plan"
    errors = field_errors(owner.put(url, {"plan": None, "monthly_fee": 10}))
    assert list(errors) == ["monthly_fee"]
    assert list(field_errors(owner.put(url, {"plan": history["startup"].pk, "starts_on": "x"})))
    assert list(field_errors(owner.delete(f"{url}?starts_on=2026-13-01"))) == ["starts_on"]
    assert list(field_errors(owner.put(url, {"monthly_fee": 10}))) == ["plan"]  # plan is asked
    stored = ClientPlan.objects.get(client=world.client_a, starts_on=None)
    assert (stored.plan, stored.monthly_fee) == (history["startup"], None)


def test_it_keeps_the_history_to_those_who_see_the_client(world, history, as_user):
    url = f"/clients/{world.client_a.pk}/plan"
    body = {"plan": history["startup"].pk, "starts_on": "2026-12-01"}
    bob = as_user(world.client_b_user)
    for response in (bob.get(url), bob.put(url, body), bob.delete(url)):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    for user in (world.engineer, world.client_a_user):
        caller = as_user(user)
        assert caller.get(url).status_code == 200
        assert caller.put(url, body).status_code == 403
        assert caller.delete(f"{url}?starts_on=2026-03-01").status_code == 403
    assert ClientPlan.objects.filter(client=world.client_a).count() == 3
    assert as_user(world.owner).get("/clients/999999/plan").status_code == 404
