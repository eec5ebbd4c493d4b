"""Verdicts and the unknown-time policy as pure functions: what a running window may claim,
and how each policy counts unknown time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.availability import Availability, StateSpan, availability
from sla.budget import error_budget
from sla.calendar import Calendar
from sla.models import UnknownTime
from sla.verdicts import Verdict, burn_rate, certainly_missed, owed_percent, verdict

OCTOBER = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
MINUTE = timedelta(minutes=1)
TIERS = [
    {"below": "99.9", "percent": "10"},
    {"below": "99.5", "percent": "25"},
    {"below": "99", "percent": "50"},
]
POLICIES = [policy.value for policy in UnknownTime]


def day_of_each(t0: datetime) -> list[StateSpan]:
    """A day: 23 h up, 30 min down, 30 min unknown."""
    t1, t2 = t0 + timedelta(hours=23), t0 + timedelta(hours=23, minutes=30)
    return [(t0, t1, "up"), (t1, t2, "down"), (t2, t0 + timedelta(days=1), "unknown")]


def test_it_counts_unknown_time_as_each_policy_says() -> None:
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    day = (t0, t0 + timedelta(days=1))
    found = {
        policy: availability(day_of_each(t0), Calendar.always(), *day, unknown_time=policy)
        for policy in POLICIES
    }
    assert found["excluded"].percent_display() == "97.872"  # 23 h of 23.5 h
    assert found["up"].percent_display() == "97.916"  # 23.5 h of 24 h
    assert found["down"].percent_display() == "95.833"  # 23 h of 24 h
    # The recorded parts stay what they were whatever the policy; outages are the real ones.
    for figures in found.values():
        assert (figures.up, figures.down, figures.unknown) == (
            timedelta(hours=23),
            timedelta(minutes=30),
            timedelta(minutes=30),
        )
        assert figures.outage_count == 1
    budgets = {
        policy: error_budget(
            day_of_each(t0),
            Calendar.always(),
            *day,
            target=Decimal("99"),
            now=day[1],
            unknown_time=policy,
        )
        for policy in POLICIES
    }
    assert budgets["excluded"].consumed == budgets["up"].consumed == timedelta(minutes=30)
    assert budgets["down"].consumed == timedelta(hours=1)


def spans(origin: datetime, pieces: list[tuple[int, int, str]]) -> list[StateSpan]:
    segments: list[StateSpan] = []
    cursor = origin
    for gap, length, state in pieces:
        start = cursor + gap * MINUTE
        cursor = start + length * MINUTE
        segments.append((start, cursor, state))
    return segments


def cut(timeline: list[StateSpan], now: datetime) -> list[StateSpan]:
    """The timeline as known at ``now``: nothing after it."""
    return [(s, min(e, now), state) for s, e, state in timeline if s < now]


pieces = st.lists(
    st.tuples(
        st.integers(0, 3000), st.integers(1, 20_000), st.sampled_from(["up", "down", "unknown"])
    ),
    max_size=10,
)
targets = st.sampled_from([Decimal("99"), Decimal("99.9"), Decimal("100")])
policies = st.sampled_from(POLICIES)
moments = st.integers(1, 31 * 24 * 60 - 1)  # minutes into October


@settings(max_examples=150, deadline=None)
@given(pieces, moments, targets, policies)
def test_it_never_claims_while_running_what_the_close_could_undo(
    found: list[tuple[int, int, str]], minute: int, target: Decimal, policy: str
) -> None:
    start, end = OCTOBER
    now = start + minute * MINUTE
    timeline = spans(start - timedelta(days=1), found)
    calendar = Calendar.always()

    def figures_at(moment: datetime) -> Availability:
        known = cut(timeline, moment)
        return availability(known, calendar, start, end, known_until=moment, unknown_time=policy)

    running, final = figures_at(now), figures_at(end)
    said = verdict(running, target, complete=False)
    closed = verdict(final, target, complete=True)
    assert said != Verdict.MET  # only a closed window is met
    if said == Verdict.MISSED:
        assert closed == Verdict.MISSED
    # The credit owed while running is certain: the close never owes less.
    assert owed_percent(TIERS, running, complete=False) <= owed_percent(TIERS, final, complete=True)
    # The verdict reads the budget the page shows: the same allowance, burn rate and miss.
    budget = error_budget(
        cut(timeline, now), calendar, start, end, target=target, now=now, unknown_time=policy
    )
    assert burn_rate(running, target) == budget.burn_rate
    assert certainly_missed(running, target) == budget.is_exhausted


@settings(max_examples=80, deadline=None)
@given(pieces)
def test_it_orders_the_policies_down_excluded_up(found: list[tuple[int, int, str]]) -> None:
    start, end = OCTOBER
    timeline = spans(start, found)
    ratios = {
        policy: availability(timeline, Calendar.always(), start, end, unknown_time=policy).ratio
        for policy in POLICIES
    }
    if ratios["excluded"] is not None:
        assert ratios["down"] is not None and ratios["up"] is not None
        assert ratios["down"] <= ratios["excluded"] <= ratios["up"]
