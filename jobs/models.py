"""Leases that keep background work single: one holder per name, for a limited time."""

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
