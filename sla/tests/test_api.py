"""The REST API of care plans, clients' plans and clients' SLAs (``/api/v1``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from api.tests.conftest import ApiCaller, field_errors
from api.urls import api
from incidents.models import Incident, IncidentState
from incidents.models.core import Severity
from monitoring.models import Monitor, MonitorState, StateChange
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from tenancy.models import ApiToken, Organization

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)
NOT_FOUND = {"detail": "Not found", "errors": []}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, second, tzinfo=UTC)


def outage(monitor: Monitor, start: datetime, end: datetime) -> None:
    StateChange.objects.create(monitor=monitor, at=start, from_state="up", to_state="down")
    StateChange.objects.create(monitor=monitor, at=end, from_state="down", to_state="up")


@pytest.fixture
def as_user():
    def make(user) -> ApiCaller:
        _token, raw = ApiToken.issue(user, "tests")
        return ApiCaller(raw)

    return make


@pytest.fixture
def shop(world):
    """Client A on the seasonal-shop example (99.9 % a month, 24/7, Warsaw, 1490 PLN), its
    home page watched since January and up."""
    install_example_plans(world.agency)
    plan = CarePlan.objects.get(organization=world.agency, slug="seasonal-shop")
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    Monitor.objects.filter(pk=world.monitor_a.pk).update(
        created_at=datetime(2026, 1, 1, tzinfo=UTC), state=MonitorState.UP
    )
    StateChange.objects.create(
        monitor=world.monitor_a,
        at=datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
        from_state="unknown",
        to_state="up",
    )
    return plan


# --- a client's SLA ----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_answers_a_months_sla_to_the_second(world, shop, as_user):
    outage(world.monitor_a, at(10, 10), at(10, 10, 43, 12))
    response = as_user(world.owner).get(f"/clients/{world.client_a.pk}/sla", period="2026-09")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["client"] == {"id": world.client_a.pk, "slug": "client-a", "name": "Client A"}
    # A Warsaw September: from local midnight of the 1st, 30 days.
    assert data["period"] == {
        "label": "2026-09",
        "start": "2026-08-31T22:00:00Z",
        "end": "2026-09-30T22:00:00Z",
        "time_zone": "Europe/Warsaw",
    }
    figures = data["figures"]
    assert figures["availability_percent"] == "99.900"
    assert figures["availability_exact"] == "999/10"
    assert (figures["in_scope_seconds"], figures["down_seconds"]) == (30 * 86_400, 2592)
    assert (figures["unknown_seconds"], figures["excluded_seconds"]) == (0, 0)
    assert figures["outages"] == [
        {"start": "2026-09-10T10:00:00Z", "end": "2026-09-10T10:43:12Z", "counted_seconds": 2592}
    ]
    assert [(s["name"], s["figures"]["down_seconds"]) for s in data["sites"]] == [("Shop A", 2592)]
    assert data["plan"]["slug"] == "seasonal-shop"
    assert data["plan"]["targets"]["P1"] == {"response_minutes": 15, "resolution_minutes": 240}
    assert data["assignment"] == {
        "agreed_monthly_fee": None,
        "monthly_fee": "1490.00",
        "starts_on": None,
    }
    window = data["window"]
    assert (window["met"], window["complete"], window["target"]) == (True, True, "99.9")
    budget = window["budget"]
    # 0.1 % of 30 days is exactly the outage: all of it used, not (yet) overspent.
    assert (budget["allowed_seconds"], budget["consumed_seconds"]) == (2592, 2592)
    assert (budget["remaining_seconds"], budget["consumed_percent"]) == (0, "100.000")
    assert (budget["exhausted"], budget["exhausted_at"], budget["elapsed_percent"]) == (
        False,
        None,
        "100.000",
    )
    assert window["breaches"] == []
    assert window["credit"] == {
        "percent": "0",
        "fee": "1490.00",
        "amount": "0.00",
        "currency": "PLN",
    }
    assert data["history"] is None


@time_machine.travel(NOW, tick=False)
def test_it_names_breaches_the_credit_and_the_outages_behind_it(world, shop, as_user):
    outage(world.monitor_a, at(10, 10), at(10, 11))
    incident = Incident.objects.create(
        monitor=world.monitor_a,
        opened_at=at(10, 10),
        acknowledged_at=at(10, 10, 20),
        resolved_at=at(10, 11),
        state=IncidentState.RESOLVED,
        severity=Severity.CRITICAL,
    )
    data = (
        as_user(world.client_a_user)
        .get(f"/clients/{world.client_a.pk}/sla", period="2026-09")
        .json()
    )
    window = data["window"]
    assert window["figures"]["availability_percent"] == "99.861"
    assert window["met"] is False
    assert window["breaches"] == [
        {
            "kind": "availability",
            "target_percent": "99.9",
            "actual_percent": "99.861",
            "target_seconds": None,
            "actual_seconds": None,
            "incident_id": None,
            "priority": "",
        },
        {
            "kind": "response",
            "target_percent": None,
            "actual_percent": None,
            "target_seconds": 900,
            "actual_seconds": 1200,
            "incident_id": incident.pk,
            "priority": "P1",
        },
    ]
    assert window["credit"] == {
        "percent": "10",
        "fee": "1490.00",
        "amount": "149.00",
        "currency": "PLN",
    }
    assert window["causes"] == [
        {
            "start": "2026-09-10T10:00:00Z",
            "end": "2026-09-10T11:00:00Z",
            "counted_seconds": 3600,
            "sites": ["Shop A"],
            "incident_ids": [incident.pk],
        }
    ]
    [timer] = window["incidents"]
    assert (timer["response_seconds"], timer["response_target_seconds"]) == (1200, 900)
    assert (timer["resolution_seconds"], timer["resolution_missed"]) == (3600, False)
    budget = window["budget"]
    assert (budget["consumed_seconds"], budget["remaining_seconds"]) == (3600, 2592 - 3600)
    assert budget["exhausted"] is True
    assert budget["exhausted_at"] == "2026-09-10T10:43:12Z"


@time_machine.travel(NOW, tick=False)
def test_it_defaults_to_this_month_and_adds_the_monthly_history(world, shop, as_user):
    outage(world.monitor_a, at(10, 10), at(10, 10, 43, 12))
    owner = as_user(world.owner)
    current = owner.get(f"/clients/{world.client_a.pk}/sla").json()
    assert current["period"]["label"] == "2026-10"
    assert current["window"]["complete"] is False
    # Four days and 14 hours of October (from Warsaw's midnight) known: up.
    assert current["figures"]["up_seconds"] == 4 * 86_400 + 14 * 3600
    data = owner.get(f"/clients/{world.client_a.pk}/sla", period="2026-09", history=3).json()
    assert [
        (m["period"]["label"], m["figures"]["availability_percent"]) for m in data["history"]
    ] == [
        ("2026-07", "100.000"),
        ("2026-08", "100.000"),
        ("2026-09", "99.900"),
    ]


@time_machine.travel(NOW, tick=False)
def test_it_answers_without_a_plan_and_before_the_plan_is_in_force(world, shop, as_user):
    owner = as_user(world.owner)
    without = owner.get(f"/clients/{world.client_b.pk}/sla", period="2026-09").json()
    assert (without["plan"], without["assignment"], without["window"]) == (None, None, None)
    assert without["in_force"] is False
    assert without["period"]["time_zone"] == "Europe/Warsaw"  # the installation's zone
    ClientPlan.objects.filter(client=world.client_a).update(starts_on=date(2026, 10, 1))
    before = owner.get(f"/clients/{world.client_a.pk}/sla", period="2026-09").json()
    # No step of the history judges September: no plan is named for it.
    assert (before["plan"], before["assignment"], before["window"]) == (None, None, None)
    assert before["figures"]["availability_percent"] == "100.000"
    october = owner.get(f"/clients/{world.client_a.pk}/sla", period="2026-10").json()
    assert october["plan"]["slug"] == "seasonal-shop" and october["in_force"] is True
    assert october["assignment"]["starts_on"] == "2026-10-01"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"period": "2026-13"}, "period", "no such month"),
        ({"period": "October"}, "period", "not a month or a quarter"),
        ({"history": 99}, "history", ""),
    ],
)
def test_it_refuses_a_bad_period_naming_the_field(world, shop, as_user, query, field, words):
    response = as_user(world.owner).get(f"/clients/{world.client_a.pk}/sla", **query)
    errors = field_errors(response)
    assert list(errors) == [field]
    assert words in errors[field]


def test_it_shows_a_client_user_their_own_sla_and_plan_only(world, shop, as_user):
    alice, bob = as_user(world.client_a_user), as_user(world.client_b_user)
    assert alice.get(f"/clients/{world.client_a.pk}/sla").status_code == 200
    mine = alice.get(f"/clients/{world.client_a.pk}/plan").json()
    assert (mine["plan"]["slug"], mine["monthly_fee"]) == ("seasonal-shop", "1490.00")
    for path in ("sla", "plan"):
        for caller, client in ((alice, world.client_b), (bob, world.client_a)):
            response = caller.get(f"/clients/{client.pk}/{path}")
            assert (response.status_code, response.json()) == (404, NOT_FOUND), path


# --- a client's plan ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_gives_a_client_a_plan_with_an_agreed_fee_and_takes_it_away(world, shop, as_user):
    owner = as_user(world.owner)
    startup = CarePlan.objects.get(organization=world.agency, slug="startup")
    url = f"/clients/{world.client_b.pk}/plan"
    assert owner.get(url).json() == {
        "client": world.client_b.pk,
        "plan": None,
        "agreed_monthly_fee": None,
        "monthly_fee": None,
        "starts_on": None,
        "history": [],
    }
    body = {"plan": startup.pk, "monthly_fee": "399.5", "starts_on": "2026-10-01"}
    answer = owner.put(url, body).json()
    assert answer["plan"]["slug"] == "startup"
    assert (answer["agreed_monthly_fee"], answer["monthly_fee"], answer["starts_on"]) == (
        "399.50",
        "399.50",
        "2026-10-01",
    )
    stored = ClientPlan.objects.get(client=world.client_b)
    assert (stored.plan, stored.monthly_fee, stored.starts_on) == (
        startup,
        Decimal("399.5"),
        date(2026, 10, 1),
    )
    assert as_user(world.client_b_user).get(url).json()["starts_on"] == "2026-10-01"
    # Without starts_on: the step since always, added before the October one.
    answer = owner.put(url, {"plan": startup.pk})
    assert answer.status_code == 200, answer.content
    assert [step["starts_on"] for step in answer.json()["history"]] == [None, "2026-10-01"]
    assert answer.json()["monthly_fee"] == "399.50"  # October's step is still the current one
    assert owner.delete(f"{url}?starts_on=2026-10-01").status_code == 204
    assert owner.get(url).json()["monthly_fee"] == "490.00"  # the plan's own fee
    assert owner.delete(url).status_code == 204
    assert not ClientPlan.objects.filter(client=world.client_b).exists()
    assert owner.delete(url).status_code == 204  # nothing left: nothing to do


def test_it_refuses_a_plan_of_another_agency_and_writes_by_non_owners(world, shop, as_user):
    other = Organization.objects.create(name="Other", slug="other")
    foreign = install_example_plans(other)[0]
    url = f"/clients/{world.client_a.pk}/plan"
    errors = field_errors(as_user(world.owner).put(url, {"plan": foreign.pk}))
    assert errors == {"plan": f"No such object: {foreign.pk}."}
    assert field_errors(as_user(world.owner).put(url, {"plan": shop.pk, "monthly_fee": -1}))
    assert as_user(world.engineer).put(url, {"plan": shop.pk}).status_code == 403
    assert as_user(world.engineer).delete(url).status_code == 403
    assert as_user(world.client_a_user).delete(url).status_code == 403
    assert ClientPlan.objects.get(client=world.client_a).plan == shop


# --- care plans --------------------------------------------------------------------------------

PLAN = {
    "slug": "office",
    "name": "Office hours",
    "availability_target": 99.5,
    "business_hours": {"Monday": "8:00-16:00", "friday": "08:00-14:00"},
    "holiday_country": "pl",
    "closed_dates": ["2026-12-31", "2026-12-24"],
    "targets": {"P1": {"response_minutes": 60, "resolution_minutes": 480}},
    "credits": [{"below": 99, "percent": "25"}, {"below": "99.5", "percent": 10}],
    "monthly_fee": "490",
    "currency": "eur",
}


def test_it_creates_a_plan_in_the_shape_config_as_code_uses(world, as_user):
    response = as_user(world.owner).post("/plans", PLAN)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["availability_target"] == "99.5"
    assert data["business_hours"] == {"monday": "08:00-16:00", "friday": "08:00-14:00"}
    assert (data["holiday_country"], data["currency"], data["monthly_fee"]) == (
        "PL",
        "EUR",
        "490.00",
    )
    assert data["closed_dates"] == ["2026-12-24", "2026-12-31"]
    assert data["credits"] == [{"below": "99.5", "percent": "10"}, {"below": "99", "percent": "25"}]
    assert data["targets"]["P1"] == {"response_minutes": 60, "resolution_minutes": 480}
    assert data["targets"]["P4"] == {"response_minutes": None, "resolution_minutes": None}
    assert (data["window"], data["time_zone"], data["clients"]) == ("month", "Europe/Warsaw", 0)
    plan = CarePlan.objects.get(pk=data["id"])
    assert plan.organization == world.agency and plan.p1_response_minutes == 60


def test_it_patches_only_what_is_sent(world, as_user):
    owner = as_user(world.owner)
    plan_id = owner.post("/plans", PLAN).json()["id"]
    data = owner.patch(f"/plans/{plan_id}", {"targets": {"P2": {"response_minutes": 120}}}).json()
    assert data["targets"]["P1"] == {"response_minutes": 60, "resolution_minutes": 480}
    assert data["targets"]["P2"] == {"response_minutes": 120, "resolution_minutes": None}
    data = owner.patch(f"/plans/{plan_id}", {"name": "Office", "window": "quarter"}).json()
    assert (data["name"], data["window"], data["availability_target"]) == (
        "Office",
        "quarter",
        "99.5",
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"business_hours": {"monday": "25:00-26:00"}}, "business_hours", "monday"),
        ({"business_hours": {"someday": "08:00-16:00"}}, "business_hours", "not a weekday"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates", "item 1"),
        ({"credits": [{"below": "x", "percent": 10}]}, "credits", "below must be a number"),
        ({"targets": {"P1": {"response_minutes": 0}}}, "targets.P1.response_minutes", ""),
        ({"targets": {"P9": {"response_minutes": 5}}}, "targets.P9.[key]", ""),
        ({"availability_target": "99.9999"}, "availability_target", "3 decimal places"),
        ({"availability_target": 101}, "availability_target", ""),
        ({"holiday_country": "XX"}, "holiday_country", "XX"),
        ({"holiday_country": "", "holiday_subdivision": "02"}, "holiday_subdivision", "country"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", ""),
        ({"currency": "euro"}, "currency", "three-letter"),
        ({"window": "year"}, "window", ""),
    ],
)
def test_it_refuses_bad_plan_fields_naming_them(world, as_user, change, field, words):
    response = as_user(world.owner).post("/plans", {**PLAN, **change})
    errors = field_errors(response)
    assert field in errors, errors
    assert words in errors[field]
    assert not CarePlan.objects.exists()


def test_it_refuses_a_slug_the_agency_already_has(world, as_user):
    owner = as_user(world.owner)
    assert owner.post("/plans", PLAN).status_code == 201
    assert "slug" in field_errors(owner.post("/plans", {**PLAN, "name": "Again"}))


def test_it_lets_owners_write_plans_engineers_read_them_and_hides_them_from_clients(world, as_user):
    owner, engineer = as_user(world.owner), as_user(world.engineer)
    plan_id = owner.post("/plans", PLAN).json()["id"]
    assert engineer.get("/plans").json()["count"] == 1
    assert engineer.get(f"/plans/{plan_id}").json()["slug"] == "office"
    assert engineer.post("/plans", {**PLAN, "slug": "other"}).status_code == 403
    assert engineer.patch(f"/plans/{plan_id}", {"name": "X"}).status_code == 403
    assert engineer.delete(f"/plans/{plan_id}").status_code == 403
    assert engineer.post("/plans/examples", {}).status_code == 403
    for user in (world.client_a_user, world.client_b_user):
        caller = as_user(user)
        for response in (
            caller.get("/plans"),
            caller.get(f"/plans/{plan_id}"),
            caller.post("/plans", PLAN),
            caller.post("/plans/examples", {}),
            caller.patch(f"/plans/{plan_id}", {"name": "X"}),
            caller.delete(f"/plans/{plan_id}"),
        ):
            assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert CarePlan.objects.get().name == "Office hours"


def test_it_installs_the_example_plans_once(world, as_user):
    owner = as_user(world.owner)
    first = owner.post("/plans/examples", {})
    assert first.status_code == 201
    assert sorted(p["slug"] for p in first.json()) == ["enterprise", "seasonal-shop", "startup"]
    enterprise = next(p for p in first.json() if p["slug"] == "enterprise")
    assert (enterprise["availability_target"], enterprise["window"]) == ("99.95", "quarter")
    assert owner.post("/plans/examples", {}).json() == []
    assert owner.get("/plans").json()["count"] == 3


def test_it_refuses_to_delete_a_plan_in_use_with_409(world, shop, as_user):
    owner = as_user(world.owner)
    response = owner.delete(f"/plans/{shop.pk}")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "The plan Seasonal shop is in use by 1 client (Client A): give it another plan or none "
        "first."
    )
    assert owner.get(f"/plans/{shop.pk}").json()["clients"] == 1
    assert owner.delete(f"/clients/{world.client_a.pk}/plan").status_code == 204
    assert owner.delete(f"/plans/{shop.pk}").status_code == 204
    assert not CarePlan.objects.filter(pk=shop.pk).exists()


def test_it_documents_the_new_routes_in_openapi(db):
    paths = api.get_openapi_schema(path_prefix="")["paths"]
    assert {"get", "post"} <= set(paths["/plans"])
    assert set(paths["/plans/{plan_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/clients/{client_id}/plan"]) == {"get", "put", "delete"}
    sla = paths["/clients/{client_id}/sla"]["get"]
    assert {p["name"] for p in sla["parameters"]} == {"client_id", "period", "history"}
