"""The job layer's rows: singleton leases of the background loops, and jobs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Lease(models.Model):
    """A named lease: while it has not expired, only its holder may do that work.

    ``name`` is the work (``probe-engine``, ``alert-sender``); ``holder`` says which process
    holds it (host, pid and the process's start time, so a reused pid is not taken for the
    holder); an empty holder means released. Not tenant data: the loops serve every agency.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    holder = models.CharField(_("holder"), max_length=255, blank=True, default="")
    acquired_at = models.DateTimeField(_("acquired at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return self.name


class JobState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed for good")


class Job(models.Model):
    """One piece of background work: a registered function (``jobs.registry``) and its payload.

    The row is the job's whole truth: a runner claims it by conditional UPDATE (``queued`` →
    ``running``, with a fresh ``lease_token`` and a lease expiring on the database's clock),
    renews the lease while it runs, and finishes it with a conditional UPDATE on "still ours"
    in the same transaction as its effect (``jobs.execute``). A job whose lease ran out is
    queued again (or failed for good once out of attempts). ``dedupe_key`` makes enqueueing
    the same work twice a no-op; ``subject`` names what the job is about (``monitor:12``)
    for lookups and the admin. Not tenant data: runners serve every agency.
    """

    function = models.CharField(_("function"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    queue = models.CharField(_("queue"), max_length=50, default="default")
    state = models.CharField(
        _("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    subject = models.CharField(_("subject"), max_length=100, blank=True, default="")
    run_after = models.DateTimeField(_("run after"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("max attempts"), default=3)
    timeout_s = models.FloatField(_("timeout (seconds)"), default=300.0)
    # Unique when set (NULLs never collide): the same work enqueued twice is one job.
    dedupe_key = models.CharField(
        _("deduplication key"), max_length=200, null=True, blank=True, unique=True
    )
    holder = models.CharField(_("holder"), max_length=255, blank=True, default="")
    lease_token = models.CharField(_("lease token"), max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    result = models.JSONField(_("result"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            # Claiming: the due queued jobs of one queue, oldest first.
            models.Index(fields=["state", "queue", "run_after"], name="job_claim"),
            # Lost leases (running, expired) and pruning (done/failed, finished long ago).
            models.Index(fields=["state", "lease_expires_at"], name="job_lease"),
            models.Index(fields=["subject", "state"], name="job_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.function} #{self.pk} ({self.state})"
