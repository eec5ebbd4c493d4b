"""The embedded job runner: claims due jobs and runs them in worker processes, per queue.

Many runners may serve one database (claims are conditional UPDATEs), so unlike the probe
engine it takes no singleton lease. Its loop is made of small steps that tests call directly:

1. :meth:`JobRunner.handle_one_periodic`: other apps' steps at their own pace (the browser
   monitors' scheduling, the runner's coverage record), given by the command that wires them.
2. :meth:`JobRunner.handle_one_recovery`: give back jobs of runners that died (lease expired,
   or their process provably gone), and prune old finished jobs.
3. :meth:`JobRunner.handle_one_claims`: fill each queue's free worker slots with due jobs.
4. :meth:`JobRunner.handle_one_replies`: note finished calls (waits up to the poll interval);
   a worker that died mid-job gives its job back as a failed attempt.
5. :meth:`JobRunner.handle_one_overruns`: a job past its timeout plus the grace has its
   worker's process group killed (the job's browser with it) and is retried or failed.
6. :meth:`JobRunner.handle_one_renewals`: renew the leases of running jobs every third of
   their life; a job found taken over has its worker killed (its finish would record nothing).
On SIGTERM the runner stops claiming, gives running jobs a short drain, then kills their
workers and puts the jobs back without counting the attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone

from jobs import queue
from jobs.leases import db_clock, this_process
from jobs.models import Job, JobState
from jobs.pool import InlinePool, Pool, Reply, WorkerPool
from jobs.queue import Claimed, still_ours
from jobs.registry import load, queue_sizes

logger = logging.getLogger("sitecare.jobs")

RUN_JOB = "jobs.execute.run_job"
# How long running jobs may finish after a stop before their workers are killed: less than
# the supervisor's grace (10 s), so the runner still puts them back itself.
DRAIN_SECONDS = 5.0
RECOVERY_SECONDS = 5.0
PRUNE_SECONDS = 3600.0


@dataclass
class Periodic:
    """A step of another app the runner calls every ``every`` seconds with the time."""

    step: Callable[[datetime], object]
    every: float
    due: float = 0.0


@dataclass
class Running:
    """A job this runner's worker runs: its claim, worker, and when to renew or kill it."""

    claimed: Claimed
    queue: str
    handle: Any
    kill_at: float
    renew_at: float


class JobRunner:
    """One runner's state (see the module docstring)."""

    def __init__(
        self,
        *,
        periodic: Sequence[Periodic] = (),
        pools: Mapping[str, Pool] | None = None,
        inline: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        load()
        make = InlinePool if inline else WorkerPool
        self.pools: dict[str, Pool] = dict(
            pools or {name: make(name, size) for name, size in queue_sizes().items()}
        )
        self.periodic = list(periodic)
        self.clock = clock
        self.me = this_process().key()
        self.ttl = settings.SITECARE_JOB_LEASE_SECONDS
        self.grace = settings.SITECARE_JOB_KILL_GRACE_SECONDS
        self.running: dict[int, Running] = {}
        self.recovery_due = 0.0
        self.prune_due = 0.0

    # --- the steps ---------------------------------------------------------------------------

    def handle_one_periodic(self) -> None:
        now = self.clock()
        for item in self.periodic:
            if now >= item.due:
                item.due = now + item.every
                item.step(timezone.now())

    def handle_one_recovery(self) -> int:
        now = self.clock()
        if now < self.recovery_due:
            return 0
        self.recovery_due = now + RECOVERY_SECONDS
        if now >= self.prune_due:
            self.prune_due = now + PRUNE_SECONDS
            queue.prune(now=timezone.now())
        return queue.recover_lost(self.me)

    def handle_one_claims(self) -> int:
        """Claim due jobs for each queue's free workers; how many were started."""
        started = 0
        for name, pool in self.pools.items():
            while pool.busy() < pool.size:
                claimed = queue.claim_next(name, self.me, ttl=self.ttl)
                if claimed is None:
                    break
                self._start(name, pool, claimed)
                started += 1
        return started

    def _start(self, name: str, pool: Pool, claimed: Claimed) -> None:
        handle = pool.start(RUN_JOB, [claimed.job_id, claimed.token])
        now = self.clock()  # after a new worker got ready: its start is not the job's time
        self.running[claimed.job_id] = Running(
            claimed, name, handle, now + claimed.timeout + self.grace, now + self.ttl / 3
        )

    def handle_one_replies(self, wait: float = 0.0) -> int:
        """Note the calls that ended; a worker that died gives its job back. How many ended."""
        ended = 0
        pools = [p for p in self.pools.values() if p.busy()]
        for pool in pools:
            for handle, reply in pool.poll(wait / len(pools)):
                ended += 1
                self._ended(handle, reply)
        if not pools and wait:
            time.sleep(wait)
        return ended

    def _ended(self, handle: Any, reply: Reply) -> None:
        running = next((r for r in self.running.values() if r.handle == handle), None)
        if running is None:
            return
        del self.running[running.claimed.job_id]
        if not reply.ok:  # the worker died, or run_job itself failed: the attempt failed
            queue.give_back(running.claimed.job_id, running.claimed.token, reply.error)

    def handle_one_overruns(self) -> int:
        """Kill the workers of jobs past their timeout plus grace; give the jobs back."""
        now = self.clock()
        over = [r for r in self.running.values() if now >= r.kill_at]
        for running in over:
            self.pools[running.queue].kill(running.handle)
            del self.running[running.claimed.job_id]
            seconds = running.claimed.timeout
            logger.error("job %s overran its %.0f s: killed", running.claimed.job_id, seconds)
            error = f"timed out after {seconds:.0f} s: its worker was killed"
            queue.give_back(running.claimed.job_id, running.claimed.token, error)
        return len(over)

    def handle_one_renewals(self) -> int:
        """Renew the leases due for it; kill the worker of a job that is no longer ours."""
        now = self.clock()
        renewed = 0
        for running in [r for r in self.running.values() if now >= r.renew_at]:
            claimed = running.claimed
            if queue.renew(claimed.job_id, claimed.token, ttl=self.ttl):
                running.renew_at = now + self.ttl / 3
                renewed += 1
                continue
            logger.error("job %s was taken over by another runner: stopping it", claimed.job_id)
            self.pools[running.queue].kill(running.handle)
            del self.running[claimed.job_id]
        return renewed

    # --- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Run the steps until ``stop`` is set, then stop cleanly (:meth:`shut_down`)."""
        poll = settings.SITECARE_JOB_POLL_SECONDS
        logger.info(
            "job runner started (%s)", ", ".join(f"{q}: {p.size}" for q, p in self.pools.items())
        )
        try:
            while not stop.is_set():
                try:
                    self.handle_one_periodic()
                    self.handle_one_recovery()
                    self.handle_one_claims()
                    self.handle_one_replies(wait=poll)
                    self.handle_one_overruns()
                    self.handle_one_renewals()
                except DatabaseError:
                    logger.exception("job runner: database error, retrying")
                    connections.close_all()
                    stop.wait(poll)
        finally:
            self.shut_down()

    def shut_down(self, drain: float = DRAIN_SECONDS) -> None:
        """Let running jobs finish for ``drain`` seconds, then kill their workers and put the
        jobs back as not tried (a stop is not the job's fault); end every worker."""
        deadline = self.clock() + drain
        while self.running and self.clock() < deadline:
            self.handle_one_replies(wait=0.2)
        for running in list(self.running.values()):
            self.pools[running.queue].kill(running.handle)
            put_back(running.claimed)
        self.running.clear()
        for pool in self.pools.values():
            pool.close()
        logger.info("job runner stopped")


def put_back(claimed: Claimed, *, now: datetime | None = None) -> bool:
    """Queue a job again as if this attempt never began (the runner stopped)."""
    clock = db_clock(now)
    return (
        Job.objects.filter(still_ours(claimed.job_id, claimed.token)).update(
            state=JobState.QUEUED,
            run_after=clock,
            attempts=F("attempts") - 1,
            holder="",
            lease_token="",
            lease_expires_at=None,
        )
        == 1
    )
