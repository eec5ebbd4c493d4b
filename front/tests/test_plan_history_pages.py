"""A client's plan history in the web UI: the panel, changing the plan from a day, deleting a
step, and the SLA page naming the plan that judged the window shown."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from front.tests.conftest import signed_in
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)


@pytest.fixture
def history(world) -> dict[str, CarePlan]:
    """Client A: Start-up since always, Enterprise from 1 March 2026, no plan from 2027."""
    plans = {plan.slug: plan for plan in install_example_plans(world.agency)}
    for starts_on, plan in (
        (None, plans["startup"]),
        (date(2026, 3, 1), plans["enterprise"]),
        (date(2027, 1, 1), None),
    ):
        ClientPlan.objects.create(client=world.client_a, plan=plan, starts_on=starts_on)
    return plans


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def history_rows(html: str) -> list[str]:
    table = html.split('id="plan-history"')[1].split("</tbody>")[0]
    return [text(row).strip() for row in table.split("<tr>")[2:]]


@time_machine.travel(NOW, tick=False)
def test_it_shows_the_current_plan_and_the_history(world, history):
    client_page = reverse("front:client", args=[world.client_a.pk])
    html = signed_in(world.client_a_user).get(client_page).content.decode()
    facts = text(html.split('class="facts"')[1].split("</dl>")[0])
    assert "Enterprise" in facts and "1 Mar 2026" in facts and "6,900.00 PLN" in facts
    assert history_rows(html) == [
        "the start Start-up 490.00 PLN",
        "1 Mar 2026 Enterprise 6,900.00 PLN current",
        "1 Jan 2027 no plan — scheduled",
    ]
    assert reverse("front:client_plan_step_delete") not in html  # client users read
    owner = signed_in(world.owner).get(client_page).content.decode()
    assert owner.count(reverse("front:client_plan_step_delete")) == 3
    assert "Change the plan from" in owner and 'value="2026-10-01"' in owner


@time_machine.travel(NOW, tick=False)
def test_it_changes_the_plan_from_a_day_and_changes_that_days_step(world, history):
    owner = signed_in(world.owner)
    url = reverse("front:client_plan", args=[world.client_a.pk])
    shop = history["seasonal-shop"]
    response = owner.post(url, {"plan-plan": shop.pk, "plan-starts_on": "2026-11-01"})
    assert response.status_code == 302
    assert ClientPlan.objects.filter(client=world.client_a).count() == 4
    owner.post(
        url, {"plan-plan": shop.pk, "plan-starts_on": "2026-11-01", "plan-monthly_fee": "999"}
    )
    step = ClientPlan.objects.get(client=world.client_a, starts_on=date(2026, 11, 1))
    assert (step.plan, step.monthly_fee) == (shop, 999)
    assert ClientPlan.objects.filter(client=world.client_a).count() == 4
    refused = owner.post(url, {"plan-plan": "", "plan-monthly_fee": "5"})
    assert "monthly_fee" in refused.context["plan_form"].errors
    assert ClientPlan.objects.get(client=world.client_a, starts_on=None).plan == history["startup"]


@time_machine.travel(NOW, tick=False)
def test_it_lets_only_owners_delete_a_step(world, history):
    url = reverse("front:client_plan_step_delete")
    step = ClientPlan.objects.get(client=world.client_a, starts_on=date(2026, 3, 1))
    for user, status in (
        (world.engineer, 403),
        (world.client_a_user, 403),
        (world.client_b_user, 404),
    ):
        assert signed_in(user).post(url, {"step": step.pk}).status_code == status
    assert signed_in(world.owner).get(url).status_code == 405
    assert ClientPlan.objects.filter(client=world.client_a).count() == 3
    response = signed_in(world.owner).post(url, {"step": step.pk}, follow=True)
    assert "The step “from 1 Mar 2026: Enterprise” is deleted." in text(response.content.decode())
    assert not ClientPlan.objects.filter(pk=step.pk).exists()
    assert signed_in(world.owner).post(url, {"step": step.pk}).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_it_names_on_the_sla_page_the_plan_that_judged_the_window(world, history):
    def page(period: str) -> str:
        url = reverse("front:client_sla", args=[world.client_a.pk])
        return text(signed_in(world.owner).get(url, {"period": period}).content.decode())

    assert "Care plan Start-up: 99.5 %, judged by the month" in page("2026-01")
    may = page("2026-05")
    assert "Care plan Enterprise: 99.95 %, judged by the quarter" in may
    assert "Start-up" not in may.split("Counted time")[0]
    ClientPlan.objects.filter(client=world.client_a, starts_on=None).delete()
    before = page("2026-01")
    # January is judged by Enterprise's Q1 (dated inside it); 2025 had no plan at all.
    assert "Care plan Enterprise" in before
    old = page("2025-06")
    assert "This client has no care plan in this period" in old
    assert "The care plan Enterprise is in force from 1 Mar 2026." in old
