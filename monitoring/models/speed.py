"""Page speed measurements: a speed monitor's median figures, kept for trend charts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.models.monitors import Monitor


class SpeedProfile(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    DESKTOP = "desktop", _("Desktop")


class SpeedMeasurement(models.Model):
    """The medians of one speed check's page loads, tagged with the environment they ran in.

    Kept ``SITECARE_SPEED_RETENTION_DAYS`` (at least 90, longer than raw results) for the
    trend charts; figures of different ``environment`` keys are never charted as one series
    (``monitoring.browser.calibration``). Written once per check by ``speed.record_extra``,
    in the transaction that records the check's result (unique per monitor and moment).
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="speed_measurements"
    )
    measured_at = models.DateTimeField(_("measured at"))
    environment = models.CharField(_("environment"), max_length=100)
    browser_version = models.CharField(_("browser version"), max_length=40)
    cpu_score = models.FloatField(_("CPU score"))
    profile = models.CharField(_("profile"), max_length=8, choices=SpeedProfile.choices)
    runs = models.PositiveSmallIntegerField(_("page loads"), default=1)
    lcp_ms = models.FloatField(_("Largest Contentful Paint (ms)"), null=True, blank=True)
    cls = models.FloatField(_("Cumulative Layout Shift"), null=True, blank=True)
    tbt_ms = models.FloatField(_("Total Blocking Time (ms)"), null=True, blank=True)
    fcp_ms = models.FloatField(_("First Contentful Paint (ms)"), null=True, blank=True)
    ttfb_ms = models.FloatField(_("Time to First Byte (ms)"), null=True, blank=True)
    bytes = models.PositiveBigIntegerField(_("bytes transferred"), null=True, blank=True)
    requests = models.PositiveIntegerField(_("requests"), null=True, blank=True)
    # [{"url", "bytes", "type"}], the biggest first (of the median run).
    heaviest = models.JSONField(_("heaviest resources"), default=list, blank=True)
    # The figures over their budget at the time (their keys, e.g. ["lcp_ms"]).
    broken = models.JSONField(_("over budget"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("speed measurement")
        verbose_name_plural = _("speed measurements")
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "measured_at"], name="speed_measurement_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.measured_at:%Y-%m-%d %H:%M:%S}: LCP {self.lcp_ms}"
