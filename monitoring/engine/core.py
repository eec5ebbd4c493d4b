"""The probe engine: one asyncio loop that checks every enabled monitor on its interval.

Built from small steps that tests call directly:

- :meth:`ProbeEngine.handle_one_reload` re-reads the monitors when the database changed;
- :meth:`ProbeEngine.launch_due` starts the checks that are due, within the concurrency bound;
- :meth:`ProbeEngine.handle_one_flush` stores the buffered results in one batch;
- :meth:`ProbeEngine.handle_one_retention` deletes raw results past the retention period;
- :meth:`ProbeEngine.handle_one_heartbeats` judges heartbeat (push) monitors from their pings;
- :meth:`ProbeEngine.handle_one_beat` records that the engine runs (``monitoring.engine_runs``:
  time no run covers is unknown for the SLA);
- :meth:`ProbeEngine.shutdown` finishes running checks, flushes, and closes everything.

:meth:`ProbeEngine.run` strings them together until :meth:`ProbeEngine.request_stop` (or
SIGTERM/SIGINT through :func:`monitoring.engine.runner.run_engine`). The database is only
touched from one worker thread, so a slow write never stalls the checks running on the loop.

Which monitors are due when, and the engine's mirror of each monitor's streak, are kept by
its :class:`~monitoring.engine.roster.Roster`: each outcome advances the mirror
(:mod:`monitoring.engine.confirmation`), so the next check's time is chosen in-loop the moment
a check ends, without waiting for the flush. Prometheus metrics are served on their own port
(:mod:`monitoring.engine.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.utils import timezone

from monitoring import heartbeats, retention
from monitoring.checks import RUNNERS
from monitoring.engine import store
from monitoring.engine.lease import EngineLease
from monitoring.engine.metrics import EngineMetrics
from monitoring.engine.roster import Roster
from monitoring.engine.schedule import Schedule
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.streaks import Streak
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _

logger = logging.getLogger("sitecare.engine")

T = TypeVar("T")

# The scheduler wakes at least this often, so a stop or a freed slot is never missed for long.
MAX_IDLE_SECONDS = 1.0
# Checks due within one tick start together: at thousands of checks a second the scheduler
# wakes a hundred times a second rather than once per check (a check starts ≤ 10 ms late).
TICK_SECONDS = 0.01
# A check kind that overruns its own timeout by this much is cut off by the engine.
RUNNER_GRACE_SECONDS = 5.0
FINAL_FLUSH_ATTEMPTS = 3
# Retention runs this often, each time deleting a bounded amount (see monitoring.retention).
RETENTION_SECONDS = 60.0
# Heartbeats are judged this often: a missed deadline or a /fail ping is seen within it.
HEARTBEAT_SECONDS = 10.0


@dataclass(frozen=True)
class EngineConfig:
    """How the engine paces itself (seconds); defaults come from the settings."""

    concurrency: int
    flush_seconds: float
    reload_seconds: float = 2.0
    full_reload_seconds: float = 60.0
    stop_grace_seconds: float = 5.0
    max_pending: int = 100_000
    # Prometheus endpoint of the engine; port 0 turns it off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    # How often the engine's run record is moved forward (monitoring.engine_runs).
    beat_seconds: float = 30.0

    @classmethod
    def from_settings(cls, **overrides: Any) -> EngineConfig:
        """The settings' pacing, with some fields replaced (tests shorten the periods)."""
        base = cls(
            concurrency=settings.SITECARE_ENGINE_CONCURRENCY,
            flush_seconds=settings.SITECARE_ENGINE_FLUSH_SECONDS,
            metrics_host=settings.SITECARE_ENGINE_METRICS_HOST,
            metrics_port=settings.SITECARE_ENGINE_METRICS_PORT,
            beat_seconds=settings.SITECARE_ENGINE_BEAT_SECONDS,
        )
        return replace(base, **overrides)


class ProbeEngine:
    """Schedules monitors with jitter, runs their checks, buffers and stores the results."""

    def __init__(self, config: EngineConfig | None = None, rng: random.Random | None = None):
        self.config = config or EngineConfig.from_settings()
        self.roster = Roster(rng or random.Random())
        # Outcome sequence numbers: which outcomes the database had seen when monitors were read.
        self._outcome_seq = 0
        self._last_outcome: dict[int, int] = {}
        self._stored_upto = 0
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.pending: list[Outcome] = []
        self.checks_started = 0
        self.results_stored = 0
        self.outbound = OutboundClient(connection_limit=self.config.concurrency)
        self._fingerprint: store.Fingerprint | None = None
        # This engine's EngineRun row, once recorded.
        self.run_id: int | None = None
        self._next_full_reload = 0.0
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-engine-db")
        self._stop = asyncio.Event()
        self.lease = EngineLease(self.config.beat_seconds, self.run_in_db)
        self._wake = asyncio.Event()
        # True while due checks wait for a free slot: a check that ends must wake the scheduler.
        self._blocked = False
        self._flush_lock = asyncio.Lock()
        self.metrics = EngineMetrics(
            in_flight=lambda: len(self.in_flight),
            pending=lambda: len(self.pending),
            scheduled=lambda: len(self.roster.schedule),
        )

    @property
    def schedule(self) -> Schedule:
        return self.roster.schedule

    @property
    def targets(self) -> dict[int, CheckTarget]:
        return self.roster.targets

    @property
    def streaks(self) -> dict[int, Streak]:
        return self.roster.streaks

    # --- the database thread ---------------------------------------------------------------

    async def run_in_db(self, fn: Callable[[], T]) -> T:
        """Run ORM code on the engine's database thread (never on the loop)."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn)

    async def handle_one_reload(self, *, force: bool = False) -> bool:
        """Re-read the monitors if anything changed (or when forced, or on the periodic full
        reload that catches edits made without touching ``updated_at``); True if reloaded.
        """
        seen = await self.run_in_db(store.fingerprint)
        now = asyncio.get_running_loop().time()
        if not force and seen == self._fingerprint and now < self._next_full_reload:
            return False
        stored_upto, (targets, streaks) = await self.run_in_db(self._load_monitors)
        # The fingerprint was taken before loading: a change in between is seen next time.
        self._fingerprint = seen
        self._next_full_reload = now + self.config.full_reload_seconds
        self.apply_targets(targets, streaks, stored_upto=stored_upto)
        return True

    def _load_monitors(self) -> tuple[int, tuple[dict[int, CheckTarget], dict[int, Streak]]]:
        """(On the database thread.) The monitors, with how many outcomes were stored before."""
        # Flushes run on this same thread, so the mark matches exactly what the read sees.
        return self._stored_upto, store.load_monitors()

    async def handle_one_flush(self) -> int:
        """Store the buffered results in one batch; on a database error keep them for later."""
        async with self._flush_lock:
            batch, self.pending = self.pending, []
            if not batch:
                return 0
            # Every outcome up to this number is in the batch, stored before, or dropped.
            upto = self._outcome_seq
            try:
                stored = await self.run_in_db(lambda: self._store(batch, upto))
            except Exception:
                logger.exception("storing %d check results failed; will retry", len(batch))
                self._requeue(batch)
                return 0
            self.results_stored += stored
            self.metrics.count_written(stored)
            return stored

    def _store(self, batch: list[Outcome], upto: int) -> int:
        """(On the database thread.) Store a batch, then mark the outcomes as seen by the DB."""
        stored = store.store_results(batch)
        self._stored_upto = upto
        return stored

    async def handle_one_retention(self) -> int:
        """Delete a bounded share of the raw results past retention; return the count."""
        return await self.run_in_db(retention.handle_one_retention)

    async def handle_one_heartbeats(self) -> int:
        """Judge heartbeat monitors from their pings and record the outcomes; return the count.

        Nothing is probed for a heartbeat, so it is a database step (reading pings, writing
        outcomes in one go) rather than a check on the schedule.
        """
        return await self.run_in_db(heartbeats.handle_one_evaluation)

    async def handle_one_beat(self) -> bool:
        """Record that the engine is running; True if written.

        1. Renew the lease (:mod:`monitoring.engine.lease`); lost, the engine stops.
        2. The first beat records the run (started now); later ones move its ``last_seen_at``
           forward with one UPDATE on the database thread.
        3. A run whose row is no longer open (deleted by hand) is recorded anew.
        4. A failed write is logged and tried again at the next beat: the checks go on, and
           the time without beats becomes unknown for the SLA after the grace.
        """
        if not await self.lease.keep():
            self.request_stop()
            return False
        try:
            run_id = self.run_id
            if run_id is not None and await self.run_in_db(lambda: store.beat(run_id)):
                return True
            if run_id is not None:
                logger.warning("probe engine run %s is no longer recorded; recording anew", run_id)
            self.run_id = await self.run_in_db(store.begin_run)
        except Exception:
            logger.exception("recording that the probe engine runs failed; will retry")
            return False
        return True

    async def _record_stop(self) -> None:
        """Mark the run as stopped cleanly; a failure is logged (the run then ends at its last
        beat plus the grace)."""
        run_id, self.run_id = self.run_id, None
        if run_id is None:
            return
        try:
            await self.run_in_db(lambda: store.end_run(run_id))
        except Exception:
            logger.exception("recording the probe engine's stop failed")

    def _requeue(self, batch: list[Outcome]) -> None:
        self.pending[:0] = batch
        overflow = len(self.pending) - self.config.max_pending
        if overflow > 0:
            # Memory is bounded: while the database is away the oldest results go first.
            logger.error("dropping %d unstored check results", overflow)
            del self.pending[:overflow]

    # --- the schedule ----------------------------------------------------------------------

    def apply_targets(
        self,
        targets: dict[int, CheckTarget],
        streaks: dict[int, Streak] | None = None,
        *,
        stored_upto: int | None = None,
    ) -> None:
        """Bring the schedule in line with the monitors loaded from the database
        (:meth:`Roster.apply <monitoring.engine.roster.Roster.apply>`).

        Streaks are taken from the database where it has seen all of the engine's outcomes
        for the monitor (``stored_upto``); otherwise the engine's own mirror is newer. A
        monitor that left the roster has its running check cancelled.
        """

        def mirror_is_newer(monitor_id: int) -> bool:
            return stored_upto is None or self._last_outcome.get(monitor_id, 0) > stored_upto

        now = asyncio.get_running_loop().time()
        gone = self.roster.apply(targets, streaks or {}, now, mirror_is_newer=mirror_is_newer)
        for monitor_id in gone:
            task = self.in_flight.pop(monitor_id, None)
            if task is not None:
                task.cancel()
        self._wake.set()

    def launch_due(self) -> int:
        """Start the checks that are due, as far as the concurrency bound allows.

        1. Take at most as many due monitors as there are free slots from the roster, which
           reschedules each at its next turn (:meth:`Roster.take_due
           <monitoring.engine.roster.Roster.take_due>`).
        2. Skip a monitor whose previous check still runs: one site never gets two at once.
        """
        now = asyncio.get_running_loop().time()
        free = self.config.concurrency - len(self.in_flight)
        started = 0
        for target, due in self.roster.take_due(now, max(free, 0)):
            if target.monitor_id in self.in_flight:
                continue
            self.metrics.observe_lag(now - due)
            self.in_flight[target.monitor_id] = asyncio.create_task(self._check(target, now))
            started += 1
        self.checks_started += started
        self._blocked = len(self.in_flight) >= self.config.concurrency
        return started

    async def _check(self, target: CheckTarget, started: float) -> None:
        """Run one check and take its outcome, unless the monitor went away meanwhile."""
        try:
            outcome = await self._run_check(target)
        finally:
            if self.in_flight.get(target.monitor_id) is asyncio.current_task():
                del self.in_flight[target.monitor_id]
            if self._blocked:
                self._blocked = False
                self._wake.set()
        if target.monitor_id in self.roster.targets:
            self.take_outcome(outcome, target.kind, started)

    def take_outcome(self, outcome: Outcome, kind: str, started: float) -> None:
        """Buffer an outcome, count it, advance the monitor's streak and pick the next check.

        1. Queue the outcome for the next flush, numbered so reloads know what is stored.
        2. Advance the mirrored streak by the rules the database applies at the flush; while
           a flip awaits confirmation the roster brings the next check forward to the
           re-check pace (:meth:`Roster.advance <monitoring.engine.roster.Roster.advance>`).
        """
        monitor_id = outcome.monitor_id
        self.pending.append(outcome)
        self._outcome_seq += 1
        self._last_outcome[monitor_id] = self._outcome_seq
        self.metrics.count_check(kind, outcome.ok, outcome.failure_class)
        now = asyncio.get_running_loop().time()
        if self.roster.advance(monitor_id, outcome.ok, started, now):
            self._wake.set()

    async def _run_check(self, target: CheckTarget) -> Outcome:
        """The kind's outcome; a crash or hang of the check code is a failure, not a stop."""
        checked_at = timezone.now()
        try:
            async with asyncio.timeout(target.timeout_s + RUNNER_GRACE_SECONDS):
                return await RUNNERS[target.kind](target, self.outbound)
        except TimeoutError:
            failure, message = FailureClass.TIMEOUT, _("The check did not finish in time.")
        except Exception:
            logger.exception("check of monitor %s crashed", target.monitor_id)
            failure, message = FailureClass.INTERNAL_ERROR, _("The check could not be run.")
        return Outcome(
            target.monitor_id, checked_at, ok=False, failure_class=failure, message=message
        )

    # --- running and stopping --------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the engine to stop (safe from a signal handler on the loop)."""
        self._stop.set()
        self.lease.stop_seen.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self, *, duration: float | None = None) -> None:
        """Check monitors until :meth:`request_stop` (or for ``duration`` seconds), then stop.

        1. Wait for the lease (one engine per database); record the run; open the metrics
           endpoint; load the monitors and spread their first checks.
        2. Run the scheduler, the flusher, the reloader, retention, heartbeats and the run's
           beat side by side.
        3. On stop: let running checks finish briefly, flush every result, record the stop,
           close.
        """
        loop = asyncio.get_running_loop()
        if duration is not None:
            loop.call_later(duration, self.request_stop)
        try:
            if not await self.lease.acquire():
                return
            await self.handle_one_beat()
            self.metrics.serve(self.config.metrics_host, self.config.metrics_port)
            await self.handle_one_reload(force=True)
            logger.info("probe engine started with %d monitors", len(self.roster.targets))
            async with asyncio.TaskGroup() as group:
                group.create_task(self._scheduler())
                group.create_task(self._every(self.config.flush_seconds, self.handle_one_flush))
                group.create_task(self._every(self.config.reload_seconds, self.handle_one_reload))
                group.create_task(self._every(RETENTION_SECONDS, self.handle_one_retention))
                group.create_task(self._every(HEARTBEAT_SECONDS, self.handle_one_heartbeats))
                beat = self.config.beat_seconds
                group.create_task(self._every(beat, self.handle_one_beat, first_after=beat))
        finally:
            await self.shutdown()

    async def _scheduler(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.launch_due()
            await self._sleep(self._idle_delay())

    def _idle_delay(self) -> float:
        """How long the scheduler may sleep: until the next due check (at least a tick), or
        until a slot frees."""
        due = self.roster.schedule.next_due()
        if due is None or self._blocked:
            return MAX_IDLE_SECONDS
        delay = due - asyncio.get_running_loop().time()
        return min(max(delay, TICK_SECONDS), MAX_IDLE_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early when a slot frees, the monitors change, or stop is asked."""
        # A timer that sets the event costs less than a timeout context per wake-up.
        timer = asyncio.get_running_loop().call_later(seconds, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()

    async def _every(
        self, period: float, step: Callable[[], Awaitable[object]], *, first_after: float = 0.0
    ) -> None:
        """Run a step every ``period`` seconds (the first time after ``first_after``) until
        stop; a failing step is logged, not fatal."""
        if first_after > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(first_after):
                    await self._stop.wait()
        while not self._stop.is_set():
            try:
                await step()
            except Exception:
                logger.exception("probe engine step %s failed", getattr(step, "__name__", step))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(period):
                    await self._stop.wait()

    async def shutdown(self) -> None:
        """Stop cleanly: finish or cancel running checks, flush all results, close resources.

        1. Give running checks ``stop_grace_seconds`` to finish (their results are kept).
        2. Cancel the rest: an interrupted check says nothing about the site.
        3. Flush the buffer, retrying a few times; record the run's stop; then close sessions
           and the database thread.
        """
        self.request_stop()
        running = list(self.in_flight.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=self.config.stop_grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._final_flush()
        await self._record_stop()
        await self.lease.release()
        self.metrics.close()
        await self.outbound.close()
        await self.run_in_db(connections.close_all)
        self._db.shutdown(wait=True)
        logger.info(
            "probe engine stopped: %d checks, %d results stored",
            self.checks_started,
            self.results_stored,
        )

    async def _final_flush(self) -> None:
        for attempt in range(FINAL_FLUSH_ATTEMPTS):
            await self.handle_one_flush()
            if not self.pending:
                return
            await asyncio.sleep(0.5 * (attempt + 1))
        logger.error("stopping with %d check results unstored", len(self.pending))
