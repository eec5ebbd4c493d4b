"""The job queue in the database: enqueue, claim, keep, give back, recover, prune.

Every change of a job's state is a conditional UPDATE, so two runners (or a runner and a
Celery worker later) never both win a job:

1. :func:`claim` moves one due ``queued`` job to ``running`` with a fresh lease token and a
   lease expiring on the **database's** clock (as ``jobs.leases`` does), counting the attempt.
2. The claimer renews the lease while the job runs (:func:`renew`: "still ours").
3. It ends as ``jobs.execute.finish`` (done, with its effect) or :func:`give_back` (this
   attempt failed: queued again after the backoff, or failed for good once out of attempts).
4. A job whose runner died is recovered by :func:`recover_lost` once its lease expired, or at
   once when its holder provably ran on this machine and is gone (``Holder.is_gone``).

``now`` arguments pin the database's clock in tests; in use the database's own clock decides.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from jobs.leases import Holder, db_clock, db_expiry
from jobs.models import Job, JobState
from jobs.registry import JobSpec, Payload, UnknownJob, spec_of

logger = logging.getLogger("sitecare.jobs")

ERROR_MAX_CHARS = 2000
# How many due jobs one claim looks at: another runner may win the first ones.
_CLAIM_WINDOW = 8


@dataclass(frozen=True)
class Claimed:
    """A job this process holds: its id, lease token, function and time limit."""

    job_id: int
    token: str
    function: str
    timeout: float


def enqueue(
    function: str,
    payload: Payload | None = None,
    *,
    dedupe_key: str | None = None,
    subject: str = "",
    queue: str | None = None,
    run_after: datetime | None = None,
    timeout: float | None = None,
    max_attempts: int | None = None,
    now: datetime | None = None,
) -> Job | None:
    """Queue a job of a registered function; None when ``dedupe_key`` is already queued,
    running or done (the same work twice is one job).

    Its queue, time limit and attempts come from the registry unless given here; it is due
    at ``run_after`` or at once (the database's clock).
    """
    spec = spec_of(function)
    clock = db_clock(now)
    try:
        with transaction.atomic():
            return Job.objects.create(
                function=function,
                payload=payload or {},
                queue=queue or spec.queue,
                subject=subject,
                dedupe_key=dedupe_key,
                run_after=run_after or clock,
                timeout_s=timeout or spec.timeout,
                max_attempts=max_attempts or spec.max_attempts,
                created_at=clock,
            )
    except IntegrityError:
        if dedupe_key is None or not Job.objects.filter(dedupe_key=dedupe_key).exists():
            raise
        return None


def claim(job_id: int, holder: str, *, ttl: float, now: datetime | None = None) -> Claimed | None:
    """Claim one job if it is still queued and due; None when another claimed it first."""
    clock = db_clock(now)
    token = secrets.token_hex(16)
    won = Job.objects.filter(pk=job_id, state=JobState.QUEUED, run_after__lte=clock).update(
        state=JobState.RUNNING,
        holder=holder,
        lease_token=token,
        lease_expires_at=db_expiry(clock, timedelta(seconds=ttl)),
        attempts=F("attempts") + 1,
        started_at=clock,
    )
    if won != 1:
        return None
    function, timeout = Job.objects.values_list("function", "timeout_s").get(pk=job_id)
    return Claimed(job_id, token, function, timeout)


def claim_next(
    queue: str, holder: str, *, ttl: float, now: datetime | None = None
) -> Claimed | None:
    """Claim the longest-due job of ``queue``; None when none is due (or others won them)."""
    due = (
        Job.objects.filter(state=JobState.QUEUED, queue=queue, run_after__lte=db_clock(now))
        .order_by("run_after", "pk")
        .values_list("pk", flat=True)[:_CLAIM_WINDOW]
    )
    for job_id in list(due):
        claimed = claim(job_id, holder, ttl=ttl, now=now)
        if claimed is not None:
            return claimed
    return None


def renew(job_id: int, token: str, *, ttl: float, now: datetime | None = None) -> bool:
    """Move a running job's lease forward; False when it is no longer ours."""
    mine = Job.objects.filter(pk=job_id, lease_token=token, state=JobState.RUNNING)
    return mine.update(lease_expires_at=db_expiry(db_clock(now), timedelta(seconds=ttl))) == 1


def still_ours(job_id: int, token: str) -> Q:
    """The condition of every change a holder makes to its running job."""
    return Q(pk=job_id, lease_token=token, state=JobState.RUNNING)


def released(clock: Any) -> dict[str, Any]:
    """The columns of a job no process holds any more."""
    return {"holder": "", "lease_token": "", "lease_expires_at": None, "finished_at": clock}


def give_back(job_id: int, token: str, error: str, *, now: datetime | None = None) -> str:
    """This attempt failed: queue the job again after its backoff, or fail it for good once
    it used all its attempts (running the function's ``on_give_up`` in that transaction).

    Returns ``retry``, ``failed``, or ``lost`` when the job was no longer ours.
    """
    clock = db_clock(now)
    error = error[:ERROR_MAX_CHARS]
    with transaction.atomic():
        row = Job.objects.filter(still_ours(job_id, token)).values(
            "function", "payload", "attempts", "max_attempts"
        )
        job = row.first()
        if job is None:
            return "lost"
        spec = _spec_or_none(job["function"])
        mine = Job.objects.filter(still_ours(job_id, token))
        if job["attempts"] < job["max_attempts"]:
            wait = timedelta(seconds=spec.backoff(job["attempts"]) if spec else 60.0)
            changes = released(clock) | {"finished_at": None}
            mine.update(
                state=JobState.QUEUED, run_after=db_expiry(clock, wait), last_error=error, **changes
            )
            logger.warning("job %s (%s) failed, retrying: %s", job_id, job["function"], error)
            return "retry"
        mine.update(state=JobState.FAILED, last_error=error, **released(clock))
        if spec is not None and spec.on_give_up is not None:
            _give_up(spec, job["payload"], error)
    logger.error("job %s (%s) failed for good: %s", job_id, job["function"], error)
    return "failed"


def _give_up(spec: JobSpec, payload: Payload, error: str) -> None:
    """Run the function's ``on_give_up`` in a savepoint: if it fails, the job still fails
    for good (raising here would leave it running, to be recovered and fail again forever)."""
    try:
        with transaction.atomic():
            assert spec.on_give_up is not None  # checked by the caller
            spec.on_give_up(payload, error)
    except Exception:
        logger.exception("job %s: its give-up step failed", spec.name)


def _spec_or_none(function: str) -> JobSpec | None:
    try:
        return spec_of(function)
    except UnknownJob:
        return None


def recover_lost(me: str, *, now: datetime | None = None) -> int:
    """Give back the running jobs whose holder is gone: their lease expired (the database's
    clock), or the holder provably ran here and its process ended. Returns how many."""
    clock = db_clock(now)
    expired = Q(lease_expires_at__lte=clock) | Q(lease_expires_at__isnull=True)
    running = Job.objects.filter(state=JobState.RUNNING)
    lost = [
        (pk, token, "its lease expired")
        for pk, token in running.filter(expired).values_list("pk", "lease_token")
    ]
    for pk, token, holder in (
        running.exclude(expired).exclude(holder=me).values_list("pk", "lease_token", "holder")
    ):
        parsed = Holder.parse(holder)
        if parsed is not None and parsed.is_gone():
            lost.append((pk, token, f"its runner (pid {parsed.pid}) is gone"))
    recovered = 0
    for pk, token, why in lost:
        if give_back(pk, token, f"lost: {why}", now=now) != "lost":
            recovered += 1
    return recovered


def prune(*, now: datetime) -> int:
    """Delete jobs done longer ago than the retention (failed ones: four times as long)."""
    keep = timedelta(days=settings.SITECARE_JOB_RETENTION_DAYS)
    old_done = Q(state=JobState.DONE, finished_at__lt=now - keep)
    old_failed = Q(state=JobState.FAILED, finished_at__lt=now - 4 * keep)
    deleted, _ = Job.objects.filter(old_done | old_failed).delete()
    return deleted
