"""Error budgets: allowance, consumption, burn rate and the run-out prediction."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.budget import error_budget
from sla.calendar import Calendar

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)  # 30 days
ALLOWED = timedelta(minutes=43, seconds=12)  # 0.1 % of 30 days


def day(number: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 9, number, hour, minute, second, tzinfo=UTC)


def down(start: datetime, length: timedelta, until: datetime) -> list:
    """Up from START to ``until`` but for one outage."""
    return [(START, start, "up"), (start, start + length, "down"), (start + length, until, "up")]


def test_it_allows_43_min_12_s_in_a_30_day_month_at_99_9() -> None:
    budget = error_budget(
        [(START, day(11), "up")], Calendar.always(), START, END, target=Decimal("99.9"), now=day(11)
    )
    assert budget.allowed == ALLOWED
    assert budget.consumed == timedelta(0)
    assert budget.consumed_ratio == 0
    assert budget.elapsed == Fraction(1, 3)
    assert budget.runs_out_at is None
    assert budget.exhausted_at is None


def test_it_predicts_the_run_out_from_the_pace_so_far() -> None:
    # Half the budget gone in the first ten days: at that pace the rest lasts ten more days.
    now = day(11)
    budget = error_budget(
        down(day(5, 12), ALLOWED / 2, now),
        Calendar.always(),
        START,
        END,
        target=Decimal("99.9"),
        now=now,
    )
    assert budget.consumed == ALLOWED / 2
    assert budget.consumed_percent == 50
    assert budget.burn_rate == Fraction(3, 2)  # half the budget in a third of the window
    assert budget.runs_out_at == day(21)
    assert budget.remaining == ALLOWED / 2


def test_it_says_when_the_budget_ran_out() -> None:
    now = day(20)
    budget = error_budget(
        down(day(12, 3), timedelta(hours=1), now),
        Calendar.always(),
        START,
        END,
        target=Decimal("99.9"),
        now=now,
    )
    assert budget.is_exhausted
    assert budget.exhausted_at == day(12, 3, 43, 12)
    assert budget.runs_out_at is None
    assert budget.remaining == ALLOWED - timedelta(hours=1)
    assert budget.burn[-1] == (now, timedelta(hours=1))


def test_it_gives_no_ratio_for_a_100_percent_target_but_knows_it_is_used_up() -> None:
    now = day(3)
    clean = error_budget(
        [(START, now, "up")], Calendar.always(), START, END, target=Decimal(100), now=now
    )
    assert clean.allowed == timedelta(0)
    assert clean.consumed_ratio is None
    assert not clean.is_exhausted
    hit = error_budget(
        down(day(2), timedelta(seconds=1), now),
        Calendar.always(),
        START,
        END,
        target=Decimal(100),
        now=now,
    )
    assert hit.is_exhausted
    assert hit.exhausted_at == day(2)


def test_it_excludes_maintenance_from_the_allowance_and_the_consumption() -> None:
    now = day(11)
    window = (day(5, 12), day(5, 18))
    budget = error_budget(
        down(day(5, 12), timedelta(hours=1), now),
        Calendar.always(),
        START,
        END,
        target=Decimal("99.9"),
        excluded=[window],
        now=now,
    )
    assert budget.consumed == timedelta(0)
    # 0.1 % of 714 hours (30 days less the 6-hour window) = 42 min 50.4 s.
    assert budget.allowed == timedelta(minutes=42, seconds=50, microseconds=400_000)


def test_it_draws_the_burn_series_through_each_day_mark_and_each_edge_of_downtime() -> None:
    """The line rises where the downtime was, not from the midnight before it (review L10)."""
    now = day(4, 12)
    marks = [day(n) for n in range(2, 31)]
    budget = error_budget(
        down(day(2, 6), timedelta(minutes=10), now),
        Calendar.always(),
        START,
        END,
        target=Decimal("99.9"),
        now=now,
        day_marks=marks,
    )
    assert budget.burn == (
        (day(2), timedelta(0)),
        (day(2, 6), timedelta(0)),
        (day(2, 6, 10), timedelta(minutes=10)),
        (day(3), timedelta(minutes=10)),
        (day(4), timedelta(minutes=10)),
        (now, timedelta(minutes=10)),
    )


BUSINESS = Calendar.business("UTC", opens=time(8), closes=time(16))


@settings(max_examples=60, deadline=None)
@given(
    outage_day=st.integers(min_value=1, max_value=9),
    outage_minutes=st.integers(min_value=1, max_value=60),
    now_day=st.integers(min_value=10, max_value=20),
)
def test_it_predicts_a_run_out_inside_business_hours_only(
    outage_day: int, outage_minutes: int, now_day: int
) -> None:
    now = day(now_day, 12)
    outage_at = day(outage_day, 10)
    budget = error_budget(
        down(outage_at, timedelta(minutes=outage_minutes), now),
        BUSINESS,
        START,
        END,
        target=Decimal("99"),
        now=now,
    )
    moment = budget.runs_out_at or budget.exhausted_at
    if moment is None:
        assert budget.consumed <= budget.allowed
        return
    assert moment.weekday() < 5
    assert time(8) <= moment.time() <= time(16)
    assert START <= moment <= END


def test_it_paces_the_allowance_over_counted_time_only() -> None:
    # A maintenance window over the whole of day 2: an even spend uses nothing of it.
    now = day(4)
    marks = [day(n) for n in range(2, 31)]
    budget = error_budget(
        [(START, now, "up")],
        Calendar.always(),
        START,
        END,
        target=Decimal("99.9"),
        excluded=[(day(2), day(3))],
        now=now,
        day_marks=marks,
    )
    pace = dict(budget.pace)
    assert pace[START] == timedelta(0)
    assert pace[day(2)] == pace[day(3)]  # flat through the excluded day
    assert pace[END] == budget.allowed
    assert pace[day(2)] == budget.allowed / 29  # one of 29 counted days


def test_it_paces_the_allowance_from_when_the_client_was_watched() -> None:
    """Review L10: the even-pace line started on the 1st for a client watched from the 7th;
    time not monitored is in no figure, so an even spend uses nothing of it."""
    now = day(11)
    marks = [day(n) for n in range(2, 31)]
    budget = error_budget(
        [(day(7), now, "up")],
        Calendar.always(),
        START,
        END,
        target=Decimal("99.9"),
        now=now,
        day_marks=marks,
    )
    pace = dict(budget.pace)
    assert pace[day(7)] == timedelta(0)  # flat over the six days nobody watched
    assert pace[END] == budget.allowed == timedelta(minutes=34, seconds=33, microseconds=600_000)
