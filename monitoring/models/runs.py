"""The runs of the background loops (probe engine, job runner): time no run covers is
unknown for the SLA."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunLoop(models.TextChoices):
    """Which background loop a run was: the probe engine, or a job runner (browser checks)."""

    PROBE_ENGINE = "probe-engine", _("probe engine")
    JOB_RUNNER = "job-runner", _("job runner")


class EngineRun(models.Model):
    """One run of a probe engine (or of a job runner, ``loop``): when it started, when it was
    last alive, when it stopped.

    The engine writes its row at start, moves ``last_seen_at`` forward every beat
    (``SITECARE_ENGINE_BEAT_SECONDS``) and sets ``stopped_at`` (and ``last_seen_at``) on a
    clean stop. A run that died without stopping is taken to have lasted until its last beat
    plus a grace (``monitoring.engine_runs``): time no run covers is time nobody watched.
    Not tenant data: one engine checks every agency's monitors.
    """

    started_at = models.DateTimeField(_("started at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    # The probe engine watches the monitors it probes; job runners watch the browser kinds.
    loop = models.CharField(
        _("loop"), max_length=20, choices=RunLoop.choices, default=RunLoop.PROBE_ENGINE
    )

    class Meta:
        verbose_name = _("probe engine run")
        verbose_name_plural = _("probe engine runs")
        # Runs overlapping [start, end): last_seen_at >= start - grace (a range on the first
        # column; a run's end is at most its last beat plus the grace), then started_at < end.
        indexes = [
            models.Index(fields=["last_seen_at", "started_at"], name="engine_run_seen_start"),
            models.Index(fields=["started_at"], name="engine_run_start"),
        ]

    def __str__(self) -> str:
        return f"{self.host}:{self.pid} @ {self.started_at:%Y-%m-%d %H:%M:%S}"
