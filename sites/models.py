"""Websites the agency looks after, one client each."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitecare.lib.names import NamedModel
from sitecare.lib.timeutil import validate_time_zone
from tenancy.models import Client


class Site(NamedModel):
    """One website of a client; monitors, incidents and (later) care plans hang off it."""

    TENANT_ORG_PATH = "client__organization_id"
    TENANT_CLIENT_PATH = "client_id"

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="sites", verbose_name=_("client")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100)
    url = models.URLField(_("address"), max_length=500, blank=True, default="")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Warsaw", validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["client__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "slug"], name="site_slug_per_client")
        ]

    def __str__(self) -> str:
        return self.name
