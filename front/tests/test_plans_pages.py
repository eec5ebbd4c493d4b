"""Care-plan pages: owners edit, engineers read, client users see none; a client's plan."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from front.tests.conftest import signed_in
from sla.models import CarePlan, ClientPlan, UnknownTime
from tenancy.models import Organization

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def plan_data(**changes: str) -> dict[str, str]:
    """A complete plan as the form posts it: business hours Mon–Fri, two credit tiers."""
    data = {
        "name": "Shop care",
        "slug": "",
        "description": "For shops.",
        "availability_target": "99.9",
        "window": "month",
        "time_zone": "Europe/Warsaw",
        "calendar": "business",
        **{f"hours_{day}": "08:00-16:00" for day in WEEKDAYS[:5]},
        "hours_saturday": "",
        "hours_sunday": "",
        "holiday_country": "PL",
        "holiday_subdivision": "",
        "closed_dates": "2026-12-31\n2026-12-24\n",
        "exclude_maintenance": "on",
        "unknown_time": "excluded",
        "p1_response_minutes": "15",
        "p1_resolution_minutes": "240",
        **{f"p{n}_{kind}_minutes": "" for n in (2, 3, 4) for kind in ("response", "resolution")},
        "support_hours": "4",
        "rpo_minutes": "60",
        "rto_minutes": "",
        "monthly_fee": "1490",
        "currency": "PLN",
        "credits": "99: 25\n99.9: 10\n",
    }
    data.update(changes)
    return data


def make_plan(world, name: str = "Basic", slug: str = "basic") -> CarePlan:
    return CarePlan.objects.create(
        organization=world.agency,
        name=name,
        slug=slug,
        availability_target=Decimal("99.5"),
        monthly_fee=Decimal(500),
    )


def test_it_creates_a_plan_with_every_term_read_by_the_shared_parsers(world):
    response = signed_in(world.owner).post(reverse("front:plan_new"), plan_data())
    plan = CarePlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("front:plan", args=[plan.pk])
    assert plan.organization == world.agency
    assert plan.slug == "shop-care"  # made from the name
    assert plan.business_hours == dict.fromkeys(WEEKDAYS[:5], "08:00-16:00")
    assert plan.closed_dates == ["2026-12-24", "2026-12-31"]
    assert plan.credits == [{"below": "99.9", "percent": "10"}, {"below": "99", "percent": "25"}]
    assert (plan.p1_response_minutes, plan.p1_resolution_minutes) == (15, 240)
    assert plan.p2_response_minutes is None
    assert plan.holiday_country == "PL" and plan.exclude_maintenance
    assert plan.monthly_fee == Decimal(1490) and plan.rpo_minutes == 60


def test_it_shows_a_plan_s_terms_in_the_form_and_saves_a_change_to_24_7(world):
    owner = signed_in(world.owner)
    owner.post(reverse("front:plan_new"), plan_data())
    plan = CarePlan.objects.get()
    html = owner.get(reverse("front:plan", args=[plan.pk])).content.decode()
    assert 'name="hours_monday" value="08:00-16:00"' in html
    assert "99.9: 10\n99: 25</textarea>" in html
    assert "2026-12-24\n2026-12-31</textarea>" in html
    response = owner.post(
        reverse("front:plan", args=[plan.pk]),
        plan_data(calendar="always", name="Shop care 24/7", credits=""),
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.business_hours == {}  # around the clock: the weekday inputs are not used
    assert plan.credits == []
    assert plan.name == "Shop care 24/7"
    assert plan.slug == "shop-care"  # left empty: kept, as config-as-code knows it by it


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"hours_monday": "25:00-26:00"},
            "hours_monday",
            "monday: 25:00-26:00 is not a time of day",
        ),
        (
            {"hours_friday": "16:00-08:00"},
            "hours_friday",
            "friday: closing time must be after opening time",
        ),
        (
            {"credits": "99.9: 10\n99 25"},
            "credits",
            "line 2: write a tier as below: percent (like 99.9: 10)",
        ),
        ({"credits": "99.9: lots"}, "credits", "tier 1: percent must be a number"),
        ({"closed_dates": "2026-12-24\n24.12.2026"}, "closed_dates", "item 2: 24.12.2026"),
        (
            {f"hours_{day}": "" for day in WEEKDAYS},
            "calendar",
            "Give the hours of at least one weekday, or choose 24/7.",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus is not a time zone"),
        ({"holiday_country": "XX"}, "holiday_country", "no public holidays known for 'XX'"),
        ({"availability_target": "100.5"}, "availability_target", "less than or equal to 100"),
        ({"p2_response_minutes": "0"}, "p2_response_minutes", "greater than or equal to 1"),
    ],
)
def test_it_refuses_bad_terms_with_the_error_at_the_field(world, changes, field, message):
    response = signed_in(world.owner).post(reverse("front:plan_new"), plan_data(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {field}
    assert message in " ".join(errors[field])
    html = response.content.decode().replace("&#x27;", "'")
    assert re.search(r'class="field__error">[^<]*' + re.escape(message), html)
    assert not CarePlan.objects.exists()  # nothing half-written


def test_it_refuses_a_slug_another_plan_of_the_agency_has(world):
    make_plan(world, slug="shop-care")
    response = signed_in(world.owner).post(reverse("front:plan_new"), plan_data())
    assert response.context["form"].errors == {
        "slug": ["Another plan of the agency has this slug."]
    }
    assert CarePlan.objects.count() == 1


def test_it_refuses_to_delete_a_plan_in_use_and_changes_nothing(world):
    plan = make_plan(world)
    ClientPlan.objects.create(client=world.client_a, plan=plan, monthly_fee=Decimal(450))
    owner = signed_in(world.owner)
    response = owner.post(reverse("front:plan_delete"), {"plan": plan.pk}, follow=True)
    html = response.content.decode()
    assert "is not deleted: Client A still use it" in html
    assert CarePlan.objects.filter(pk=plan.pk).exists()
    assignment = ClientPlan.objects.get()
    assert (assignment.client, assignment.plan, assignment.monthly_fee) == (
        world.client_a,
        plan,
        Decimal(450),
    )


def test_it_deletes_a_plan_no_client_has(world):
    plan = make_plan(world)
    response = signed_in(world.owner).post(reverse("front:plan_delete"), {"plan": plan.pk})
    assert response["Location"] == reverse("front:plans")
    assert not CarePlan.objects.exists()


def test_it_lists_plans_with_their_terms_and_clients(world):
    plan = make_plan(world)
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    html = signed_in(world.engineer).get(reverse("front:plans")).content.decode()
    assert "Basic" in html and "99.5 %" in html and "500.00 PLN" in html
    assert "24/7 · Europe/Warsaw" in html
    assert reverse("front:client", args=[world.client_a.pk]) in html
    assert reverse("front:plan_new") not in html  # engineers read


def test_it_installs_the_example_plans_for_an_owner(world):
    owner = signed_in(world.owner)
    assert "Add the example plans" in owner.get(reverse("front:plans")).content.decode()
    response = owner.post(reverse("front:plan_examples"), follow=True)
    html = response.content.decode()
    assert "3 example plans are added" in html
    assert set(CarePlan.objects.values_list("slug", flat=True)) == {
        "startup",
        "seasonal-shop",
        "enterprise",
    }
    assert "Add the example plans" not in html
    assert "Mon–Fri 09:00–17:00 · public holidays: PL · Europe/Warsaw" in html


def test_it_lets_engineers_read_plans_but_not_change_them(world):
    plan = make_plan(world)
    engineer = signed_in(world.engineer)
    html = engineer.get(reverse("front:plan", args=[plan.pk])).content.decode()
    assert "Basic" in html and "99.5 %" in html
    assert "Save changes" not in html and "Delete this plan" not in html
    assert engineer.post(reverse("front:plan", args=[plan.pk]), plan_data()).status_code == 403
    assert engineer.get(reverse("front:plan_new")).status_code == 403
    assert engineer.post(reverse("front:plan_delete"), {"plan": plan.pk}).status_code == 403
    assert engineer.post(reverse("front:plan_examples")).status_code == 403
    plan.refresh_from_db()
    assert plan.name == "Basic"
    assert CarePlan.objects.count() == 1


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_answers_404_to_client_users_for_every_plan_page(world, persona):
    plan = make_plan(world)
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    browser = signed_in(getattr(world, persona))
    for url in (reverse("front:plans"), reverse("front:plan_new")):
        assert browser.get(url).status_code == 404, url
    assert browser.get(reverse("front:plan", args=[plan.pk])).status_code == 404
    assert browser.post(reverse("front:plan", args=[plan.pk]), plan_data()).status_code == 404
    assert browser.post(reverse("front:plan_delete"), {"plan": plan.pk}).status_code == 404
    assert browser.post(reverse("front:plan_examples")).status_code == 404
    assert CarePlan.objects.get().name == "Basic"


@time_machine.travel(datetime(2026, 10, 5, 12, tzinfo=UTC), tick=False)
def test_it_assigns_a_plan_to_a_client_from_the_client_page(world):
    plan = make_plan(world)
    owner = signed_in(world.owner)
    page = owner.get(reverse("front:client", args=[world.client_a.pk])).content.decode()
    assert reverse("front:client_plan", args=[world.client_a.pk]) in page
    response = owner.post(
        reverse("front:client_plan", args=[world.client_a.pk]),
        {"plan-plan": plan.pk, "plan-monthly_fee": "450", "plan-starts_on": "2026-10-01"},
    )
    assert response["Location"] == reverse("front:client", args=[world.client_a.pk])
    assignment = ClientPlan.objects.get(client=world.client_a)
    assert (assignment.plan, assignment.monthly_fee, assignment.starts_on) == (
        plan,
        Decimal(450),
        date(2026, 10, 1),
    )
    html = signed_in(world.client_a_user).get(reverse("front:client", args=[world.client_a.pk]))
    text = html.content.decode()
    assert "Basic" in text and "450.00 PLN" in text and "1 Oct 2026" in text
    assert 'name="plan-plan"' not in text  # client users read
    owner.post(
        reverse("front:client_plan", args=[world.client_a.pk]),
        {"plan-plan": "", "plan-starts_on": "2027-01-01"},
    )
    ending = ClientPlan.objects.get(client=world.client_a, starts_on=date(2027, 1, 1))
    assert ending.plan is None  # no plan chosen: a step without one, the earlier step kept
    assert ClientPlan.objects.count() == 2


def test_it_refuses_a_plan_of_another_agency(world):
    other = Organization.objects.create(name="Other", slug="other")
    foreign = CarePlan.objects.create(
        organization=other, name="Theirs", slug="theirs", availability_target=Decimal(99)
    )
    response = signed_in(world.owner).post(
        reverse("front:client_plan", args=[world.client_a.pk]), {"plan-plan": foreign.pk}
    )
    assert response.status_code == 200
    assert "plan" in response.context["plan_form"].errors
    assert not ClientPlan.objects.exists()


def test_it_lets_only_owners_assign_plans(world):
    plan = make_plan(world)
    url = reverse("front:client_plan", args=[world.client_a.pk])
    assert signed_in(world.engineer).post(url, {"plan-plan": plan.pk}).status_code == 403
    assert signed_in(world.client_a_user).post(url, {"plan-plan": plan.pk}).status_code == 403
    assert signed_in(world.client_b_user).post(url, {"plan-plan": plan.pk}).status_code == 404
    assert signed_in(world.client_b_user).get(url).status_code == 404
    assert not ClientPlan.objects.exists()


def test_it_edits_the_policy_in_the_plan_form(world):
    browser = signed_in(world.owner)
    response = browser.post(reverse("front:plan_new"), plan_data(unknown_time="down"))
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = CarePlan.objects.get(organization=world.agency)
    assert plan.unknown_time == UnknownTime.DOWN
    html = browser.get(reverse("front:plan", kwargs={"plan_id": plan.pk})).content.decode()
    assert "Counted as down" in html
    assert '<option value="down" selected>' in html  # the edit form shows the stored policy
    response = browser.post(
        reverse("front:plan", kwargs={"plan_id": plan.pk}), plan_data(unknown_time="sideways")
    )
    # The plan model's own message, as the API and config as code give it.
    assert "Value &#x27;sideways&#x27; is not a valid choice." in response.content.decode()
