"""Inputs past what the store can hold, or that a field cannot take, are a 422 naming the
parameter or field, never a 500: null in a PATCH, ids beyond 64 bits, a huge offset, a period
outside the calendar's years."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from api.tests.conftest import field_errors
from incidents.models import Channel, OnCallSchedule
from sites.models import Site
from sla.models import CarePlan

HUGE = 10**20


@pytest.fixture
def owner_api(world, api_as):
    api = api_as(world.owner)
    api.http.raise_request_exception = False  # a 500 must show as a 500, not as an exception
    return api


def test_it_refuses_a_null_time_zone_in_a_patch(world, owner_api):
    plan = CarePlan.objects.create(
        organization=world.agency, name="Gold", slug="gold", availability_target=Decimal("99.9")
    )
    schedule = OnCallSchedule.objects.create(organization=world.agency, name="Week")
    for path in (
        f"/sites/{world.site_a.pk}",
        f"/plans/{plan.pk}",
        f"/oncall/schedules/{schedule.pk}",
    ):
        assert list(field_errors(owner_api.patch(path, {"time_zone": None}))) == ["time_zone"]
    assert Site.objects.get(pk=world.site_a.pk).time_zone == "Europe/Warsaw"
    # Where the schema admits null, null still clears the field.
    channel = Channel.objects.get(name="A hook")
    assert owner_api.patch(f"/channels/{channel.pk}", {"client": None}).status_code == 200
    assert Channel.objects.get(pk=channel.pk).client is None


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/sites", "client"),
        ("/channels", "client"),
        ("/monitors", "site"),
        ("/incidents", "site"),
        ("/maintenance-windows", "client"),
        ("/maintenance-windows", "site"),
        ("/status-pages", "client"),
        ("/status-pages/components", "page"),
        ("/status-pages/public-updates", "incident"),
        ("/oncall/overrides", "schedule"),
    ],
)
def test_it_refuses_a_filter_id_beyond_64_bits(world, owner_api, path, parameter):
    errors = field_errors(owner_api.get(path, **{parameter: HUGE}))
    assert list(errors) == [parameter]


def test_it_refuses_escalation_policy_ids_beyond_64_bits(world, owner_api):
    step = {"wait_minutes": 5, "channels": [HUGE], "users": [HUGE], "schedules": [HUGE]}
    body = {"name": "Night", "steps": [step], "clients": [HUGE], "sites": [HUGE]}
    errors = field_errors(owner_api.post("/escalation-policies", body))
    assert set(errors) == {
        "steps.0.channels.0",
        "steps.0.users.0",
        "steps.0.schedules.0",
        "clients.0",
        "sites.0",
    }


@pytest.mark.parametrize(
    "path", ["/sites", "/channels", "/oncall/schedules", "/oncall/overrides", "/clients"]
)
def test_it_refuses_an_offset_beyond_what_a_query_takes(world, owner_api, path):
    assert list(field_errors(owner_api.get(path, offset=HUGE))) == ["offset"]
    assert owner_api.get(path, offset=1_000_000_000).json()["items"] == []


def test_it_refuses_a_period_outside_the_calendars_years(world, owner_api):
    sla = f"/clients/{world.client_a.pk}/sla"
    for period in ("9999-12", "0001-01", "9999-Q4", "1969-12"):
        errors = field_errors(owner_api.get(sla, period=period))
        assert errors == {"period": f"{period} is not between the years 1970 and 2999"}
    for period in ("1970-01", f"{datetime.now(UTC):%Y-%m}"):
        assert owner_api.get(sla, period=period).status_code == 200, period
    # The last year a period may name, but not begun: refused as such (nothing to judge).
    assert field_errors(owner_api.get(sla, period="2999-12")) == {
        "period": "2999-12 has not begun yet (it begins on 2999-12-01)"
    }


@pytest.mark.parametrize("period", ["٢٠٢٦-٠١", "2026-01\n", " 2026-01", "2026-0\u0661"])
def test_it_reads_a_period_of_ascii_digits_only_and_nothing_else(world, owner_api, period):
    sla = f"/clients/{world.client_a.pk}/sla"
    errors = field_errors(owner_api.get(sla, period=period))
    assert errors == {"period": f"{period} is not a month or a quarter (like 2026-10 or 2026-Q4)"}
