"""``GET /api/v1/sla/overview``: every client's standing, the same figures as its own SLA."""

from __future__ import annotations

import pytest
import time_machine

from api.tests.conftest import ApiCaller
from sla.tests.overview_world import APART, NOW, ORDER, build_agency
from tenancy.models import ApiToken

URL = "/sla/overview"
NOT_FOUND = {"detail": "Not found", "errors": []}


@pytest.fixture
def api_as():
    def make(user) -> ApiCaller:
        _token, raw = ApiToken.issue(user, "tests")
        return ApiCaller(raw)

    return make


@pytest.mark.parametrize("persona", ["owner", "engineer"])
@time_machine.travel(NOW, tick=False)
def test_it_lists_every_client_riskiest_first(world, api_as, persona):
    build_agency(world)
    response = api_as(getattr(world, persona)).get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(ORDER + APART)
    assert [item["client"]["name"] for item in body["items"]] == ORDER + APART


@time_machine.travel(NOW, tick=False)
def test_it_answers_a_used_up_window_to_the_microsecond(world, api_as):
    agency = build_agency(world)
    items = api_as(world.owner).get(URL).json()["items"]
    assert items[0] == {
        "client": {"id": agency.a.pk, "slug": "client-a", "name": "Client A"},
        "plan": "a-care",
        "in_force": True,
        "window": "2026-10",
        "time_zone": "UTC",
        "availability_percent": "99.583",
        "target": "99.9",
        "verdict": "missed",  # used up while running: missed for certain
        "met": False,
        "budget": {
            "allowed_seconds": 2678.4,
            "consumed_seconds": 3600,
            "remaining_seconds": -921.6,
            "consumed_percent": "134.408",
            "burn_rate": "4.166",
            "exhausted": True,
            "exhausted_at": "2026-10-05T10:44:38.400000Z",
            "runs_out_at": None,
        },
        "breaches": 1,
        "credit": {"percent": "10", "amount": "100.00", "currency": "PLN"},
        "credit_if_ended_now": {"percent": "10", "amount": "100.00", "currency": "PLN"},
    }
    c = items[1]
    assert c["budget"]["consumed_percent"] is None and c["budget"]["burn_rate"] is None
    assert c["budget"]["exhausted_at"] == "2026-10-06T08:00:00Z"


@time_machine.travel(NOW, tick=False)
def test_it_lists_clients_without_a_plan_in_force_with_availability_only(world, api_as):
    build_agency(world)
    future, zeta = api_as(world.owner).get(URL).json()["items"][-2:]
    assert zeta["plan"] is None and zeta["in_force"] is False
    assert (zeta["window"], zeta["time_zone"]) == ("2026-10", "Europe/Warsaw")
    assert zeta["availability_percent"] == "99.000"
    assert [zeta[k] for k in ("target", "met", "budget", "breaches", "credit")] == [None] * 5
    # Its plan history starts in November: no plan judges this window.
    assert (future["plan"], future["in_force"], future["budget"]) == (None, False, None)


@time_machine.travel(NOW, tick=False)
def test_it_gives_the_figures_the_clients_own_sla_gives(world, api_as):
    build_agency(world)
    caller = api_as(world.engineer)
    items = caller.get(URL).json()["items"]
    compared = 0
    for item in items:
        own = caller.get(f"/clients/{item['client']['id']}/sla")
        assert own.status_code == 200, own.content
        window = own.json()["window"]
        if not item["in_force"]:
            assert window is None
            continue
        assert item["window"] == window["period"]["label"]
        assert item["time_zone"] == window["period"]["time_zone"]
        assert item["availability_percent"] == window["figures"]["availability_percent"]
        assert (item["target"], item["met"]) == (window["target"], window["met"])
        assert item["verdict"] == window["verdict"]
        shown = item["credit_if_ended_now"]
        assert shown == {key: window["credit_if_ended_now"][key] for key in shown}
        assert item["budget"] == {key: window["budget"][key] for key in item["budget"]}
        assert item["breaches"] == len(window["breaches"])
        assert item["credit"] == {key: window["credit"][key] for key in item["credit"]}
        compared += 1
    assert compared == len(ORDER)


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_does_not_exist_for_client_users(world, api_as, persona):
    build_agency(world)
    response = api_as(getattr(world, persona)).get(URL)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_it_refuses_callers_without_a_token(world):
    assert ApiCaller(None).get(URL).status_code == 401
