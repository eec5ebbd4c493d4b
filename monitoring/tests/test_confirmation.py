"""Confirmation: the engine's streak mirror, the re-check pace, the 1.5 × interval guarantee,
and faster re-checks in a running engine.

The guarantee is tested on the scheduler's pure functions with a simulated clock: the same
functions the engine calls (``turn_after``, ``advance``, ``due_after_outcome``).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.models import Incident
from monitoring.engine.confirmation import (
    due_after_outcome,
    first_due_on_load,
    is_confirming,
    recheck_pace,
)
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.engine.schedule import turn_after
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckKind, CheckResult, Monitor, MonitorState
from monitoring.spec import parse_monitor
from monitoring.streaks import Streak, advance
from monitoring.tests.loopback import ToggleServer, arun

UP, DOWN, UNKNOWN = MonitorState.UP, MonitorState.DOWN, MonitorState.UNKNOWN


# --- the mirror follows monitoring.logic -------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_it_mirrors_what_the_database_stores_for_any_sequence_and_batching(world, seed):
    """The engine's mirror and the stored streak agree, however results are batched."""
    rng = random.Random(seed)
    confirm_down, confirm_up = rng.randint(1, 4), rng.randint(1, 4)
    monitor = world.monitor_a
    Monitor.objects.filter(pk=monitor.pk).update(confirm_down=confirm_down, confirm_up=confirm_up)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    results = [rng.random() < 0.6 for _ in range(40)]
    mirror = Streak()
    i = 0
    while i < len(results):
        size = rng.randint(1, 5)
        batch = [
            Outcome(monitor.pk, at + timedelta(seconds=10 * n), ok=results[n])
            for n in range(i, min(i + size, len(results)))
        ]
        rng.shuffle(batch)  # the store orders a batch by time itself
        record_results(batch)
        for n in range(i, min(i + size, len(results))):
            mirror = advance(mirror, results[n], confirm_down, confirm_up)
        i += size
        monitor.refresh_from_db()
        assert (monitor.state, monitor.streak_ok, monitor.streak_count) == (
            mirror.state,
            mirror.streak_ok,
            mirror.streak_count,
        )


@settings(max_examples=200, deadline=None)
@given(
    results=st.lists(st.booleans(), max_size=30),
    confirm_down=st.integers(1, 4),
    confirm_up=st.integers(1, 4),
)
def test_it_flips_only_after_the_confirmations(results, confirm_down, confirm_up):
    streak = Streak()
    for ok in results:
        before = streak
        streak = advance(streak, ok, confirm_down, confirm_up)
        if streak.state != before.state and before.state != UNKNOWN:
            needed = confirm_up if ok else confirm_down
            assert streak.streak_count >= needed
            assert streak.state == (UP if ok else DOWN)


@pytest.mark.parametrize(
    ("streak", "confirming"),
    [
        (Streak(UP, False, 1), True),  # a first failure while up
        (Streak(UNKNOWN, False, 1), True),  # a new monitor failing
        (Streak(DOWN, True, 1), True),  # recovery needs its own confirmations
        (Streak(UP, True, 5), False),
        (Streak(DOWN, False, 3), False),  # already down: the regular pace
        (Streak(UNKNOWN, None, 0), False),
    ],
)
def test_it_knows_when_a_flip_awaits_confirmation(streak, confirming):
    assert is_confirming(streak) is confirming


def test_it_stops_confirming_once_the_flip_is_confirmed():
    streak = advance(Streak(UP, True, 9), False, 2, 2)
    assert is_confirming(streak)
    streak = advance(streak, False, 2, 2)
    assert streak.state == DOWN and not is_confirming(streak)


def test_it_shortens_the_pace_to_keep_the_guarantee():
    assert recheck_pace(60, 2, 10) == 10
    assert recheck_pace(60, 3, 10) == 10
    assert recheck_pace(10, 2, 10) == 5  # (N - 1) P ≤ I / 2
    assert recheck_pace(30, 4, 10) == 5
    assert recheck_pace(60, 1, 120) == 30


def test_it_brings_a_confirmation_forward_but_never_delays_a_turn():
    failing = Streak(UP, False, 1)
    assert due_after_outcome(100.0, failing, started=40.0, now=41.0, pace=10) == 50.0
    assert due_after_outcome(45.0, failing, started=40.0, now=41.0, pace=10) == 45.0
    assert due_after_outcome(100.0, failing, started=40.0, now=55.0, pace=10) == 55.0
    assert due_after_outcome(100.0, Streak(UP, True, 2), started=40.0, now=41.0, pace=10) == 100


def test_it_starts_a_monitor_mid_confirmation_within_the_pace():
    rng = random.Random(3)
    mid = [first_due_on_load(0.0, 300, 10, Streak(DOWN, True, 1), rng) for _ in range(50)]
    calm = [first_due_on_load(0.0, 300, 10, Streak(DOWN, False, 4), rng) for _ in range(50)]
    assert all(0 <= due <= 10 for due in mid)
    assert max(calm) > 100


# --- the guarantee, on a simulated clock ---------------------------------------------------------


@dataclass
class Simulation:
    """One monitor driven through the engine's pure scheduling functions on a fake clock."""

    interval: float
    confirm_down: int
    recheck: float
    check_seconds: float
    phase: float
    rechecks: bool = True

    def detects(self, outage_start: float, outage_seconds: float) -> bool:
        """Whether the monitor flips to down before the outage ends (it starts up)."""
        pace = recheck_pace(self.interval, self.confirm_down, self.recheck)
        streak = Streak(UP, True, 10)
        due = turn = self.phase
        outage_end = outage_start + outage_seconds
        while due < outage_end:
            started = due  # a fake clock: the check starts exactly on time
            turn = turn_after(due, turn, self.interval, started)
            failing = outage_start <= started < outage_end
            streak = advance(streak, not failing, self.confirm_down, 2)
            if streak.state == DOWN:
                return True
            ended = started + self.check_seconds
            due = due_after_outcome(turn, streak, started, ended, pace) if self.rechecks else turn
            due = max(due, ended)  # one check of a monitor at a time
        return False


@settings(max_examples=500, deadline=None)
@given(
    interval=st.integers(10, 3600),
    confirm_down=st.integers(1, 5),
    recheck_share=st.floats(0.01, 1.0),
    check_share=st.floats(0.0, 1.0),
    phase_share=st.floats(0.0, 1.0),
    start_share=st.floats(0.0, 20.0),
    excess=st.floats(0.001, 0.5),
)
def test_it_always_detects_an_outage_longer_than_one_and_a_half_intervals(
    interval, confirm_down, recheck_share, check_share, phase_share, start_share, excess
):
    recheck = max(1.0, recheck_share * interval)
    pace = recheck_pace(interval, confirm_down, recheck)
    simulation = Simulation(
        interval=interval,
        confirm_down=confirm_down,
        recheck=recheck,
        check_seconds=check_share * pace,  # failing checks end within the pace (see docstring)
        phase=phase_share * interval,
    )
    outage_start = start_share * interval
    assert simulation.detects(outage_start, (1.5 + excess) * interval)


def test_it_would_miss_such_an_outage_at_the_regular_pace():
    """Without faster re-checks two confirmations need up to two intervals (the control)."""
    fast = Simulation(interval=60, confirm_down=2, recheck=10, check_seconds=0.1, phase=0.0)
    slow = Simulation(**{**fast.__dict__, "rechecks": False})
    assert not slow.detects(outage_start=0.5, outage_seconds=95)
    assert fast.detects(outage_start=0.5, outage_seconds=95)


# --- the setting ---------------------------------------------------------------------------------


def test_it_validates_the_recheck_setting():
    base = {"name": "Home", "url": "https://a.example/", "interval": 60}
    assert parse_monitor({**base, "recheck": 5}, ()).model_fields_for()["recheck_s"] == 5
    assert parse_monitor(base, ()).model_fields_for()["recheck_s"] == 10
    for wrong in (0, 61, "soon"):
        with pytest.raises(ValueError, match="recheck"):
            parse_monitor({**base, "recheck": wrong}, ())


# --- in a running engine -------------------------------------------------------------------------


def _engine() -> ProbeEngine:
    config = EngineConfig.from_settings(
        flush_seconds=0.1, reload_seconds=0.2, stop_grace_seconds=2.0, metrics_port=0
    )
    return ProbeEngine(config, random.Random(5))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("netlog")
def test_it_rechecks_faster_to_confirm_a_down_and_an_up(world):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.update(enabled=False)
    with ToggleServer() as server:
        monitor = Monitor.objects.create(
            site=world.site_a,
            name="paced",
            kind=CheckKind.HTTP,
            url=server.url("/paced"),
            interval_s=30,
            timeout_s=0.5,
            confirm_down=3,
            confirm_up=2,
            recheck_s=1,
            state=MonitorState.UP,
            streak_ok=True,
            streak_count=5,
        )
        probe = _engine()

        async def scenario():
            runner = asyncio.create_task(probe.run())
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            server.broken = True
            probe.schedule.put(monitor.pk, loop.time())  # the outage's first check, now
            await asyncio.sleep(3.0)
            server.broken = False
            probe.schedule.put(monitor.pk, loop.time())  # the first check after it
            await asyncio.sleep(2.0)
            probe.request_stop()
            await runner

        arun(scenario())
    results = list(CheckResult.objects.filter(monitor=monitor).order_by("checked_at"))
    oks = [r.ok for r in results]
    assert oks == [False, False, False, True, True], oks
    gaps = [(b.checked_at - a.checked_at).total_seconds() for a, b in itertools.pairwise(results)]
    assert all(0.9 <= gap < 1.6 for gap in (gaps[0], gaps[1], gaps[3])), gaps
    changes = list(monitor.state_changes.values_list("to_state", "at"))
    assert [state for state, _at in changes] == [DOWN, UP]
    assert changes[0][1] == results[0].checked_at  # dated at the outage's first failure
    assert Incident.objects.filter(monitor=monitor).count() == 1
