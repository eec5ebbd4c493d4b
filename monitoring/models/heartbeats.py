"""The pings heartbeat monitors receive."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from monitoring.models.monitors import Monitor


class PingKind(models.TextChoices):
    START = "start", _("Started")
    SUCCESS = "success", _("Succeeded")
    FAIL = "fail", _("Failed")


class HeartbeatPing(models.Model):
    """One signal a job sent to its heartbeat monitor's secret URL, stored before the answer."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="pings")
    received_at = models.DateTimeField(_("received at"))
    kind = models.CharField(_("signal"), max_length=8, choices=PingKind.choices)
    exit_code = models.PositiveSmallIntegerField(_("exit code"), null=True, blank=True)
    # What the job chose to send (a log tail, say), truncated to a small size.
    body = models.TextField(_("body"), blank=True, default="")
    remote_addr = models.CharField(_("sender address"), max_length=64, blank=True, default="")
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("heartbeat ping")
        verbose_name_plural = _("heartbeat pings")
        indexes = [
            models.Index(fields=["monitor", "kind", "received_at"], name="ping_monitor_kind_time")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.received_at:%Y-%m-%d %H:%M:%S}: {self.kind}"
