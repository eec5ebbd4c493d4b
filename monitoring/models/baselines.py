"""The accepted content a content monitor compares each check with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from monitoring.models.monitors import Monitor


class ContentBaseline(models.Model):
    """The accepted content of a content change monitor, which later checks are compared to.

    Learned from the first successful check (``accepted_by`` empty) or accepted by a person
    after a change (``monitoring.content``). ``options_digest`` names the options the hash
    depends on (selector, compare, ignore): a baseline learned under other ones is stale.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.OneToOneField(
        Monitor, on_delete=models.CASCADE, related_name="content_baseline"
    )
    sha256 = models.CharField(_("content hash (SHA-256)"), max_length=64)
    # The normalized content as compared (bounded), so a change can be shown as a diff.
    excerpt = models.TextField(_("content excerpt"), blank=True, default="")
    options_digest = models.CharField(max_length=64, blank=True, default="")
    learned_at = models.DateTimeField(_("learned at"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    class Meta:
        verbose_name = _("content baseline")
        verbose_name_plural = _("content baselines")

    def __str__(self) -> str:
        return f"{self.monitor_id}: {self.sha256[:12]} @ {self.learned_at:%Y-%m-%d %H:%M:%S}"
