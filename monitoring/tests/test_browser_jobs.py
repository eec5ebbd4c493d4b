"""Browser monitors as jobs: when they are queued (interval, stable phase, confirmation pace,
dedupe), how a check is recorded (through record_results, once), and "test now"."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents.models import Incident, IncidentState
from jobs import queue
from jobs.models import Job, JobState
from jobs.runner import JobRunner, Periodic
from monitoring import job_functions, trial
from monitoring.browser_schedule import dedupe_key, handle_one_schedule, phase_of, regular_turn
from monitoring.checks import KINDS
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import CheckKind, CheckResult, Monitor, MonitorState
from monitoring.spec import MonitorDefinition, parse_monitor

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def shop(world) -> Monitor:
    return Monitor.objects.create(
        site=world.site_a,
        name="Checkout",
        kind=CheckKind.TRANSACTION,
        url="https://a.example/",
        interval_s=600,
        confirm_down=2,
        recheck_s=30,
    )


class FakeBrowser:
    """A browser kind's run_in_browser for tests: answers what it is told, counts calls."""

    def __init__(self) -> None:
        self.ok = False
        self.calls: list[CheckTarget] = []
        self.extras: list[Outcome] = []
        self.thread_had_loop: bool | None = None

    def run(self, target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
        self.calls.append(target)
        try:
            asyncio.get_running_loop()
            self.thread_had_loop = True
        except RuntimeError:
            self.thread_had_loop = False
        failure = FailureClass.NONE if self.ok else FailureClass.ELEMENT_NOT_FOUND
        return Outcome(target.monitor_id, datetime.now(UTC), ok=self.ok, failure_class=failure)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBrowser]:
    fake = FakeBrowser()
    spec = dataclasses.replace(
        KINDS[CheckKind.TRANSACTION], run_in_browser=fake.run, record_extra=fake.extras.append
    )
    monkeypatch.setitem(KINDS, CheckKind.TRANSACTION, spec)
    yield fake


def browser_jobs() -> list[Job]:
    return list(Job.objects.filter(function=job_functions.BROWSER_CHECK).order_by("pk"))


def run_due(runner: JobRunner) -> None:
    runner.handle_one_periodic()
    runner.handle_one_claims()
    runner.handle_one_replies()


# --- scheduling ---------------------------------------------------------------------------


def test_it_queues_a_browser_monitor_once_per_turn_at_its_stable_phase(shop):
    turn = regular_turn(shop.pk, 600, T0)
    assert T0 - timedelta(seconds=600) < turn <= T0
    with time_machine.travel(T0, tick=False):
        assert handle_one_schedule(T0) == 1
        assert handle_one_schedule(T0) == 0  # queued already: no second job
    (job,) = browser_jobs()
    assert job.dedupe_key == dedupe_key(shop.pk, turn) and job.queue == "browser"
    assert job.payload == {"monitor_id": shop.pk, "scheduled": turn.isoformat()}
    # While its check waits, the next turn queues nothing more (no pile-up).
    assert handle_one_schedule(turn + timedelta(seconds=600)) == 0
    Job.objects.filter(pk=job.pk).update(state=JobState.DONE)
    assert handle_one_schedule(turn + timedelta(seconds=599)) == 0  # the same turn: done
    assert handle_one_schedule(turn + timedelta(seconds=600)) == 1
    assert browser_jobs()[-1].dedupe_key == dedupe_key(shop.pk, turn + timedelta(seconds=600))


def test_it_spreads_monitors_over_their_interval():
    phases = [phase_of(pk, 600) for pk in range(1, 201)]
    assert phases == [phase_of(pk, 600) for pk in range(1, 201)]  # the same on every runner
    buckets = {int(p // 60) for p in phases}
    assert buckets == set(range(10))
    assert max(sum(1 for p in phases if int(p // 60) == b) for b in buckets) < 40


def test_it_queues_nothing_for_paused_and_other_kinds(world, shop):
    Monitor.objects.filter(pk=shop.pk).update(enabled=False)
    assert handle_one_schedule(T0) == 0  # world's HTTP monitors are the engine's
    assert browser_jobs() == []


def test_it_rechecks_at_the_faster_pace_while_a_flip_awaits_confirmation(shop):
    turn = regular_turn(shop.pk, 600, T0)
    last = turn + timedelta(seconds=5)
    Monitor.objects.filter(pk=shop.pk).update(
        state=MonitorState.UP, streak_ok=False, streak_count=1, last_checked_at=last
    )
    # recheck_s 30 within the 1.5 × bound (600 / 2): due 30 s after the failed check.
    assert handle_one_schedule(last + timedelta(seconds=29)) == 1  # the regular turn
    Job.objects.update(state=JobState.DONE)
    assert handle_one_schedule(last + timedelta(seconds=29)) == 0
    assert handle_one_schedule(last + timedelta(seconds=30)) == 1
    assert browser_jobs()[-1].dedupe_key == dedupe_key(shop.pk, last + timedelta(seconds=30))


def test_it_puts_speed_checks_on_their_own_queue(world):
    speed = Monitor.objects.create(
        site=world.site_a, name="Speed", kind=CheckKind.SPEED, url="https://a.example/"
    )
    handle_one_schedule(T0)
    assert Job.objects.get(subject=f"monitor:{speed.pk}").queue == "speed"


# --- running and recording ----------------------------------------------------------------


def test_it_records_through_record_results_and_opens_an_incident_once_confirmed(shop, browser):
    runner = JobRunner(inline=True, periodic=[Periodic(handle_one_schedule, 0.0)])
    run_due(runner)
    shop.refresh_from_db()
    assert (shop.state, shop.streak_count) == (MonitorState.UNKNOWN, 1)
    # The faster re-check comes 30 s after the first failure.
    Monitor.objects.filter(pk=shop.pk).update(
        last_checked_at=shop.last_checked_at - timedelta(seconds=30)
    )
    run_due(runner)
    shop.refresh_from_db()
    assert shop.state == MonitorState.DOWN
    incident = Incident.objects.get(monitor=shop)
    assert incident.state == IncidentState.OPEN
    assert incident.failure_class == FailureClass.ELEMENT_NOT_FOUND
    assert CheckResult.objects.filter(monitor=shop).count() == 2
    assert len(browser.extras) == 2  # record_extra once per recorded result
    assert [j.state for j in browser_jobs()] == [JobState.DONE, JobState.DONE]
    # The target is the engine's: its URL, time limit and confirmation settings.
    assert browser.calls[0].url == "https://a.example/" and browser.calls[0].confirm_down == 2


def test_it_ends_a_deleted_monitors_queued_check_quietly(shop, browser):
    handle_one_schedule(timezone_now())
    shop.delete()
    runner = JobRunner(inline=True)
    run_due(runner)
    (job,) = browser_jobs()
    assert job.state == JobState.DONE and "skipped" in (job.result or {})
    assert browser.calls == []


def test_it_records_a_failed_check_when_the_job_runs_out_of_attempts(shop):
    job = queue.enqueue(
        job_functions.BROWSER_CHECK, {"monitor_id": shop.pk}, max_attempts=1, subject="x"
    )
    assert job is not None
    claimed = queue.claim(job.pk, "me", ttl=60)
    assert claimed is not None
    queue.give_back(job.pk, claimed.token, "timed out after 180 s: its worker was killed")
    result = CheckResult.objects.get(monitor=shop)
    assert not result.ok and result.failure_class == FailureClass.BROWSER_ERROR
    assert "did not finish in time" in result.message


def timezone_now() -> datetime:
    return datetime.now(UTC)


# --- test now -------------------------------------------------------------------------------


def definition(**extra: object) -> MonitorDefinition:
    data = {
        "name": "Checkout",
        "kind": "transaction",
        "url": "https://a.example/",
        "steps": [{"action": "goto", "url": "/"}],
        **extra,
    }
    return parse_monitor(data, ())


def test_it_tests_a_browser_kind_off_the_event_loop(browser):
    browser.ok = True

    async def from_a_view_under_asgi() -> trial.TrialResult:
        return trial.run_trial(definition(), ())

    result = asyncio.run(from_a_view_under_asgi())
    assert result.ok and browser.thread_had_loop is False
    assert browser.calls[0].monitor_id == 0


def test_it_bounds_a_browser_trial_by_its_time_limit(monkeypatch):
    release = threading.Event()

    def hangs(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
        assert keep_artifacts is False  # a trial keeps nothing
        release.wait(10)
        return Outcome(target.monitor_id, datetime.now(UTC), ok=True)  # too late

    spec = dataclasses.replace(KINDS[CheckKind.TRANSACTION], run_in_browser=hangs)
    monkeypatch.setitem(KINDS, CheckKind.TRANSACTION, spec)
    try:
        result = trial.run_trial(definition(), (), limit=0.2)
    finally:
        release.set()
    assert not result.ok and result.outcome.failure_class == FailureClass.TIMEOUT
    assert result.message == "The check did not finish in time."


def test_it_gives_each_check_job_the_time_its_own_options_need(world, settings) -> None:
    settings.SITECARE_BROWSER_JOB_TIMEOUT = 180
    steps = [{"action": "goto", "url": "/", "timeout": 30}] * 20  # 600 s of steps at most
    long_one = Monitor.objects.create(
        site=world.site_a,
        name="Long checkout",
        kind=CheckKind.TRANSACTION,
        url="https://a.example/",
        config={"steps": steps},
    )
    speed = Monitor.objects.create(
        site=world.site_a,
        name="Home speed",
        kind=CheckKind.SPEED,
        url="https://a.example/",
        timeout_s=20,
        config={"runs": 5},
    )
    with time_machine.travel(T0, tick=False):
        handle_one_schedule(T0)
    limits = {job.subject: job.timeout_s for job in browser_jobs()}
    # Longer than the global default: the steps alone may take 600 s (capped there).
    assert limits[f"monitor:{long_one.pk}"] > 600
    # Five loads, each its session's limit (timeout + slack), plus the job's margin.
    assert 5 * 20 < limits[f"monitor:{speed.pk}"] < 5 * 60 + 60


def test_it_logs_a_crashed_check_without_its_secrets(shop, monkeypatch, caplog):
    card = "4242 4242 4242 4242"
    Monitor.objects.filter(pk=shop.pk).update(
        config={"steps": [{"action": "goto", "url": "/"}], "secrets": {"CARD": card}}
    )

    def crash(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
        raise RuntimeError(f"Locator.fill: typing {card!r} into #card failed")

    spec = dataclasses.replace(KINDS[CheckKind.TRANSACTION], run_in_browser=crash)
    monkeypatch.setitem(KINDS, CheckKind.TRANSACTION, spec)
    run_due(JobRunner(inline=True, periodic=[Periodic(handle_one_schedule, 0.0)]))
    result = CheckResult.objects.get(monitor=shop)
    assert result.failure_class == FailureClass.INTERNAL_ERROR
    assert "crashed" in caplog.text and "RuntimeError" in caplog.text
    assert card not in caplog.text and "***" in caplog.text
