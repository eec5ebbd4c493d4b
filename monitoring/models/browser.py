"""What browser checks keep beside their results: screenshots and Playwright traces."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.models.monitors import Monitor


class ArtifactKind(models.TextChoices):
    SCREENSHOT = "screenshot", _("Screenshot")
    TRACE = "trace", _("Playwright trace")


class BrowserArtifact(models.Model):
    """A file a browser check kept (a screenshot, a Playwright trace) with its result.

    Tied to the result by monitor and ``checked_at`` (results are written in bulk, without
    their ids at hand); the file lives under ``SITECARE_ARTIFACT_DIR`` at ``path`` and goes
    with the raw results' retention.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="artifacts")
    checked_at = models.DateTimeField(_("checked at"))
    kind = models.CharField(_("kind"), max_length=16, choices=ArtifactKind.choices)
    # Which step it belongs to, and its caption (a screenshot step's description).
    step = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True, default="")
    path = models.CharField(max_length=300)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("browser artifact")
        verbose_name_plural = _("browser artifacts")
        indexes = [models.Index(fields=["monitor", "checked_at"], name="artifact_monitor_time")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.monitor_id} @ {self.checked_at:%Y-%m-%d %H:%M:%S}"
