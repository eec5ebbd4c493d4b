"""Plan terms: business hours, closed days and credit tiers are read one way everywhere."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError

from sla.models import CarePlan
from sla.terms import (
    TermsError,
    credit_percent,
    credits_text,
    hours_tuple,
    parse_closed_dates,
    parse_credits,
    parse_hours,
)


def test_it_normalises_business_hours_and_orders_the_weekdays() -> None:
    hours = parse_hours({"Friday": "8:00 - 16:00", "monday": "08:00-24:00", "sunday": ""})
    assert hours == {"monday": "08:00-00:00", "friday": "08:00-16:00"}
    calendar_hours = hours_tuple(hours)
    assert calendar_hours is not None
    assert calendar_hours[0] == (time(8), time(0))
    assert calendar_hours[1] is None
    assert hours_tuple({}) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"funday": "08:00-16:00"}, "funday is not a weekday"),
        ({"monday": "25:00-26:00"}, "monday: 25:00-26:00 is not a time of day"),
        ({"monday": "16:00-08:00"}, "monday: closing time must be after opening time"),
        ({"tuesday": "morning"}, "tuesday: morning is not a span of hours"),
        (["08:00-16:00"], "give the hours per weekday"),
    ],
)
def test_it_refuses_bad_hours_naming_the_day(value: object, message: str) -> None:
    with pytest.raises(TermsError, match=message):
        parse_hours(value)


def test_it_reads_closed_dates_from_a_list_or_lines() -> None:
    assert parse_closed_dates("2026-12-24\n2026-12-24\n2026-12-31") == ["2026-12-24", "2026-12-31"]
    with pytest.raises(TermsError, match=r"item 2: 24\.12\.2026 is not a date"):
        parse_closed_dates(["2026-12-23", "24.12.2026"])


def test_it_orders_credit_tiers_and_applies_the_largest_one() -> None:
    tiers = parse_credits("99: 25\n99.9: 10%\n\n95: 100")
    assert tiers == [
        {"below": "99.9", "percent": "10"},
        {"below": "99", "percent": "25"},
        {"below": "95", "percent": "100"},
    ]
    assert credits_text(tiers) == "99.9: 10\n99: 25\n95: 100"
    assert credit_percent(tiers, Fraction(9995, 100)) == 0
    assert credit_percent(tiers, Fraction(999, 10)) == 0  # exactly on the line: not below
    assert credit_percent(tiers, Fraction(9989, 100)) == 10
    assert credit_percent(tiers, Fraction(98)) == 25
    assert credit_percent(tiers, Fraction(0)) == 100
    assert credit_percent(tiers, None) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99.9 10", "line 1: write a tier as below: percent"),
        ([{"below": "abc", "percent": 10}], "tier 1: below must be a number"),
        ([{"below": 101, "percent": 10}], "tier 1: below must be more than 0"),
        ([{"below": 99, "percent": 120}], "tier 1: percent must be from 0 to 100"),
        ([{"below": 99, "percent": 1}, {"below": "99.0", "percent": 2}], "tier 2: a tier below"),
        ([{"below": 99}], "tier 1: needs exactly below and percent"),
    ],
)
def test_it_refuses_bad_credit_tiers_naming_the_tier(value: object, message: str) -> None:
    with pytest.raises(TermsError, match=message):
        parse_credits(value)


def test_it_reports_plan_errors_at_their_field(world) -> None:
    plan = CarePlan(
        organization=world.agency,
        name="Bad",
        slug="bad",
        availability_target=Decimal("99.9"),
        business_hours={"monday": "18:00-09:00"},
        credits="x",
        holiday_country="XX",
    )
    with pytest.raises(ValidationError) as caught:
        plan.full_clean()
    errors = caught.value.message_dict
    assert "closing time must be after opening time" in errors["business_hours"][0]
    assert "line 1" in errors["credits"][0]


def test_it_names_an_unknown_holiday_country(world) -> None:
    plan = CarePlan(
        organization=world.agency,
        name="Bad",
        slug="bad",
        availability_target=Decimal("99.9"),
        holiday_country="XX",
    )
    with pytest.raises(ValidationError) as caught:
        plan.full_clean()
    assert "XX" in caught.value.message_dict["holiday_country"][0]
    plan.holiday_country = "pl"
    plan.full_clean()
    assert plan.calendar().country == "PL"
