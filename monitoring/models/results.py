"""What checks found: raw results (kept for a retention period), the state-change log
(kept forever) and the hourly rollups that carry the history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from monitoring.failures import FailureClass
from monitoring.models.monitors import Monitor, MonitorState
from sitecare.lib import messages


class CheckResult(messages.StoresMessages, models.Model):
    """One check's outcome. Raw results are kept for a retention period."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    checked_at = models.DateTimeField(_("checked at"))
    ok = models.BooleanField(_("up"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    response_ms = models.FloatField(_("response time (ms)"), null=True, blank=True)
    failure_class = models.CharField(
        _("failure"), max_length=32, choices=FailureClass.choices, blank=True, default=""
    )
    message = models.CharField(_("message"), max_length=500, blank=True, default="")
    message_code = messages.code_field()
    message_args = messages.args_field()
    # Phases of the request, where the kind has them (HTTP: all; TCP: connect; TLS: + tls).
    dns_ms = models.FloatField(_("DNS lookup (ms)"), null=True, blank=True)
    connect_ms = models.FloatField(_("connect (ms)"), null=True, blank=True)
    tls_ms = models.FloatField(_("TLS handshake (ms)"), null=True, blank=True)
    ttfb_ms = models.FloatField(_("time to first byte (ms)"), null=True, blank=True)
    # Facts a kind reports beside up/down (certificate days left, DNS answers…); null if none.
    details = models.JSONField(_("details"), null=True, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        indexes = [models.Index(fields=["monitor", "checked_at"], name="result_monitor_time")]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.checked_at:%Y-%m-%d %H:%M:%S}: {self.ok}"

    @property
    def message_text(self) -> str:
        """The message in the active language."""
        return messages.render(self.message_code, self.message_args, self.message)


class StateChange(messages.StoresMessages, models.Model):
    """A monitor's flip between up and down: the exact outage intervals, kept forever."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField(_("at"))
    from_state = models.CharField(max_length=8, choices=MonitorState.choices)
    to_state = models.CharField(max_length=8, choices=MonitorState.choices)
    failure_class = models.CharField(
        max_length=32, choices=FailureClass.choices, blank=True, default=""
    )
    message = models.CharField(max_length=500, blank=True, default="")
    message_code = messages.code_field()
    message_args = messages.args_field()

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["monitor", "at"], name="statechange_monitor_time")]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state} @ {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def message_text(self) -> str:
        """The message in the active language."""
        return messages.render(self.message_code, self.message_args, self.message)


class HourlyRollup(models.Model):
    """One monitor's checks in one UTC hour: counts and a latency histogram, kept forever.

    Maintained incrementally by ``monitoring.rollups`` as results are stored; charts and
    reports read these rows, so raw results can be pruned without losing history.
    ``buckets[i]`` counts successful checks whose response time fell into the i-th bucket of
    ``monitoring.rollups.BOUNDS_MS``; trailing empty buckets are left out to keep rows small.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="rollups")
    hour = models.DateTimeField(_("hour (UTC)"))
    checks = models.PositiveIntegerField(_("checks"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    # Latency figures cover successful checks only: a failure's time measures the failure.
    latency_count = models.PositiveIntegerField(default=0)
    latency_sum_ms = models.FloatField(default=0.0)
    latency_min_ms = models.FloatField(null=True, blank=True)
    latency_max_ms = models.FloatField(null=True, blank=True)
    buckets = models.JSONField(_("latency histogram"), default=list, blank=True)

    class Meta:
        verbose_name = _("hourly rollup")
        verbose_name_plural = _("hourly rollups")
        constraints = [
            models.UniqueConstraint(fields=["monitor", "hour"], name="rollup_monitor_hour")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.hour:%Y-%m-%d %H}:00Z: {self.failures}/{self.checks}"
