"""Running one claimed job: the one implementation every executor calls.

The embedded runner's worker processes call :func:`run_job` for each job they are handed; a
Celery task (scale-out, later) will claim a job by id (``jobs.queue.claim``) and call the same
function. Exactly-once effects come from the database, not from who runs the job:

1. Read the job on condition that it is still ours (its lease token, state running); if it is
   not (its lease was lost and another took it over), nothing runs.
2. Call the registered function with the payload. An exception is this attempt's failure:
   the job is given back (retried after its backoff, or failed for good).
3. Finish in ONE transaction: the conditional UPDATE "done, if still ours" and the function's
   effect. A holder whose lease was taken over meanwhile (after a SIGKILL, a stall) updates no
   row, so its transaction records nothing: the effect happens once, by the last holder.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import close_old_connections, transaction

from jobs.leases import db_clock
from jobs.models import Job, JobState
from jobs.queue import give_back, released, still_ours
from jobs.registry import Finish, spec_of

logger = logging.getLogger("sitecare.jobs")


def run_job(job_id: int, token: str) -> str:
    """Execute one claimed job (see the module docstring); returns ``done``, ``retry``,
    ``failed`` or ``lost``."""
    close_old_connections()
    job = Job.objects.filter(still_ours(job_id, token)).values("function", "payload").first()
    if job is None:
        logger.warning("job %s is no longer ours; not running it", job_id)
        return "lost"
    try:
        value = spec_of(job["function"]).fn(job["payload"])
        done = value if isinstance(value, Finish) else Finish(result=value)
        return finish(job_id, token, done)
    except Exception as exc:
        logger.exception("job %s (%s) raised", job_id, job["function"])
        return give_back(job_id, token, f"{type(exc).__name__}: {exc}")
    finally:
        close_old_connections()


def finish(job_id: int, token: str, done: Finish, *, now: datetime | None = None) -> str:
    """Mark the job done and run its effect, in one transaction, only while it is ours;
    ``lost`` (nothing recorded) otherwise."""
    with transaction.atomic():
        won = Job.objects.filter(still_ours(job_id, token)).update(
            state=JobState.DONE, result=done.result, **released(db_clock(now))
        )
        if won != 1:
            logger.warning(
                "job %s was taken over before it finished; its effect is dropped", job_id
            )
            return "lost"
        if done.effect is not None:
            done.effect()
    return "done"
