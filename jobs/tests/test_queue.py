"""The job queue: dedupe, claims, leases judged on the database's clock, retries with backoff,
failing for good, and effects recorded once whoever ran the job.

The database's clock is pinned by passing ``now`` (as in ``test_leases``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs import queue
from jobs.execute import finish, run_job
from jobs.leases import Holder, this_process
from jobs.models import Job, JobState
from jobs.registry import Finish, JobSpec, UnknownJob, register, spec_of
from jobs.tests import sample_jobs
from monitoring.models import EngineRun

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ME = this_process().key()
ELSEWHERE = Holder("other-host", "b00t", "4026531836", 4242, "777").key()
TTL = 60.0


def effects() -> int:
    return EngineRun.objects.filter(host="effect").count()


def test_it_makes_enqueueing_the_same_work_twice_a_no_op(db):
    first = queue.enqueue("tests.echo", {"n": 1}, dedupe_key="echo:1", now=T0)
    again = queue.enqueue("tests.echo", {"n": 2}, dedupe_key="echo:1", now=T0)
    assert first is not None and again is None
    assert Job.objects.get().payload == {"n": 1}
    # Without a key, every enqueue is a job of its own.
    queue.enqueue("tests.echo", now=T0)
    queue.enqueue("tests.echo", now=T0)
    assert Job.objects.count() == 3


def test_it_takes_queue_time_limit_and_attempts_from_the_registry(db):
    job = queue.enqueue("tests.hang", {"pid_file": "x"}, now=T0)
    assert job is not None
    assert (job.queue, job.timeout_s, job.max_attempts) == ("default", 1.0, 1)
    with pytest.raises(UnknownJob):
        queue.enqueue("tests.nothing-of-that-name")


def test_it_refuses_a_job_on_a_queue_nobody_runs():
    with pytest.raises(ValueError, match="unknown queue"):
        register(JobSpec("tests.lost", sample_jobs.echo, queue="nowhere"))


def test_it_lets_one_claimer_win_a_job(db):
    job = queue.enqueue("tests.echo", now=T0)
    assert job is not None
    first = queue.claim(job.pk, ME, ttl=TTL, now=T0)
    second = queue.claim(job.pk, ELSEWHERE, ttl=TTL, now=T0)
    assert first is not None and second is None
    assert queue.claim_next("default", ELSEWHERE, ttl=TTL, now=T0) is None
    job.refresh_from_db()
    assert (job.state, job.attempts, job.holder) == (JobState.RUNNING, 1, ME)


def test_it_claims_nothing_before_it_is_due(db):
    queue.enqueue("tests.echo", run_after=T0 + timedelta(minutes=5), now=T0)
    assert queue.claim_next("default", ME, ttl=TTL, now=T0) is None
    assert queue.claim_next("default", ME, ttl=TTL, now=T0 + timedelta(minutes=5)) is not None


def test_it_retries_a_job_whose_lease_expired_and_fails_it_for_good_after_max_attempts(db):
    job = queue.enqueue("tests.echo", max_attempts=2, now=T0)
    assert job is not None
    assert queue.claim(job.pk, ELSEWHERE, ttl=TTL, now=T0) is not None
    # Alive elsewhere, lease running: nobody takes it.
    assert queue.recover_lost(ME, now=T0 + timedelta(seconds=59)) == 0
    assert queue.recover_lost(ME, now=T0 + timedelta(seconds=60)) == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and "lease expired" in job.last_error
    # Retried after its backoff (10 s for the first retry of tests.echo).
    due = job.run_after
    assert due == T0 + timedelta(seconds=70)
    assert queue.claim_next("default", ME, ttl=TTL, now=due - timedelta(seconds=1)) is None
    assert queue.claim_next("default", ELSEWHERE, ttl=TTL, now=due) is not None
    assert queue.recover_lost(ME, now=due + timedelta(seconds=60)) == 1
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 2)
    assert job.finished_at is not None


def test_it_takes_over_at_once_a_job_whose_runner_is_gone(db):
    from jobs.tests.test_leases import gone_process

    job = queue.enqueue("tests.echo", now=T0)
    assert job is not None
    queue.claim(job.pk, gone_process().key(), ttl=TTL, now=T0)
    assert queue.recover_lost(ME, now=T0 + timedelta(seconds=1)) == 1
    assert Job.objects.get().state == JobState.QUEUED


def test_it_backs_off_doubling_up_to_the_cap():
    spec = spec_of("tests.echo")
    assert [spec.backoff(n) for n in (1, 2, 3, 4, 5)] == [10.0, 20.0, 40.0, 80.0, 100.0]


def test_it_retries_a_raising_job_with_backoff_then_fails_it_for_good_visibly(db):
    job = queue.enqueue("tests.boom", now=T0)
    assert job is not None
    claimed = queue.claim(job.pk, ME, ttl=TTL)
    assert claimed is not None
    assert run_job(claimed.job_id, claimed.token) == "retry"
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.last_error == "RuntimeError: it went boom"
    Job.objects.filter(pk=job.pk).update(run_after=T0)  # the backoff passed
    claimed = queue.claim(job.pk, ME, ttl=TTL)
    assert claimed is not None
    assert run_job(claimed.job_id, claimed.token) == "failed"
    job.refresh_from_db()
    assert (job.state, job.attempts, job.holder, job.lease_token) == (JobState.FAILED, 2, "", "")


def test_it_records_the_effect_of_a_job_taken_over_once(db):
    """The first holder stalls past its lease; another runner takes the job over and finishes
    it. The first holder's finish then records nothing: one effect, by the last holder."""
    job = queue.enqueue("tests.echo", {"n": 7}, max_attempts=3, now=T0)
    assert job is not None
    stalled = queue.claim(job.pk, ELSEWHERE, ttl=TTL, now=T0)
    assert stalled is not None
    queue.recover_lost(ME, now=T0 + timedelta(seconds=61))
    Job.objects.filter(pk=job.pk).update(run_after=T0)
    taker = queue.claim(job.pk, ME, ttl=TTL, now=T0 + timedelta(seconds=61))
    assert taker is not None
    assert run_job(taker.job_id, taker.token) == "done"
    assert effects() == 1

    # The stalled holder wakes up and tries to finish with its own effect: nothing is kept.
    def late_effect() -> None:
        EngineRun.objects.create(started_at=T0, last_seen_at=T0, host="effect", pid=2)

    late = Finish(effect=late_effect)
    assert finish(stalled.job_id, stalled.token, late) == "lost"
    assert run_job(stalled.job_id, stalled.token) == "lost"
    assert effects() == 1
    job.refresh_from_db()
    assert (job.state, job.result) == (JobState.DONE, {"echo": {"n": 7}})


def test_it_rolls_the_finish_back_when_the_effect_fails(db):
    job = queue.enqueue("tests.echo", now=T0)
    assert job is not None
    claimed = queue.claim(job.pk, ME, ttl=TTL)
    assert claimed is not None

    def broken() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        finish(claimed.job_id, claimed.token, Finish(effect=broken))
    assert Job.objects.get().state == JobState.RUNNING  # still ours; the runner gives it back


def test_it_renews_only_its_own_lease(db):
    job = queue.enqueue("tests.echo", now=T0)
    assert job is not None
    claimed = queue.claim(job.pk, ME, ttl=TTL, now=T0)
    assert claimed is not None
    assert queue.renew(job.pk, claimed.token, ttl=TTL, now=T0 + timedelta(seconds=50))
    assert queue.recover_lost(ME, now=T0 + timedelta(seconds=100)) == 0  # renewed until 110 s
    assert not queue.renew(job.pk, "not-the-token", ttl=TTL, now=T0)


def test_it_prunes_finished_jobs_after_the_retention(db, settings):
    settings.SITECARE_JOB_RETENTION_DAYS = 7
    for state, age in [(JobState.DONE, 8), (JobState.DONE, 6), (JobState.FAILED, 8)]:
        Job.objects.create(
            function="tests.echo",
            state=state,
            run_after=T0,
            created_at=T0,
            finished_at=T0 - timedelta(days=age),
        )
    assert queue.prune(now=T0) == 1
    assert sorted(Job.objects.values_list("state", flat=True)) == ["done", "failed"]
