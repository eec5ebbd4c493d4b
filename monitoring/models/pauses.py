"""Pauses and resumptions of monitors, with who and by which way."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from monitoring.models.monitors import Monitor


class PauseAction(models.TextChoices):
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")


class PauseVia(models.TextChoices):
    """The path a pause or resume came by."""

    WEB = "web", _("web")
    API = "api", _("API")
    CONFIG = "config", _("configuration file")
    ADMIN = "admin", _("admin")
    SYSTEM = "system", _("sitecare")


class PauseEvent(models.Model):
    """A monitor paused or resumed: when, by whom and by which path; kept forever.

    Written only by ``monitoring.pauses.set_enabled`` (and ``record_created`` for a monitor
    made paused), in the transaction that changes ``Monitor.enabled``. ``actor`` is who did
    it as they were named then (a user name, an API token's name, a configuration file), so
    the record outlives the user or token it names.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="pause_events")
    at = models.DateTimeField(_("at"))
    action = models.CharField(_("action"), max_length=8, choices=PauseAction.choices)
    via = models.CharField(_("by way of"), max_length=8, choices=PauseVia.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    token = models.ForeignKey(
        "tenancy.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API token"),
    )
    actor = models.CharField(_("by"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("pause or resume")
        verbose_name_plural = _("pauses and resumes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["monitor", "at"], name="pause_monitor_time")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.action} @ {self.at:%Y-%m-%d %H:%M:%S} by {self.actor}"
