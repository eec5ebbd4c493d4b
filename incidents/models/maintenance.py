"""Maintenance windows, and the outages they hold back until they end.

A window belongs to a client and either one of its sites or (no site) all of them. Its start
is a wall-clock time: a site's window is read in the site's time zone; a client-wide window is
the same wall-clock window on each of the client's sites, each in its own zone (a Sunday 02:00
window means 02:00 at every site, as the people doing the work read it). How occurrences are
found and placed in UTC, summer time included, is told in ``incidents/recurrence.py``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents import recurrence
from incidents.models.core import Incident
from monitoring.models import Monitor, StateChange
from sitecare.lib.names import NamedModel
from sites.models import Site
from tenancy.models import Client

logger = logging.getLogger("sitecare.maintenance")

MAX_DURATION_MINUTES = 31 * 24 * 60
FIRST_YEAR, LAST_YEAR = 2000, 2100
# An occurrence lies within a day of its naive local time read as UTC, whatever the zone
# (offsets run from UTC-12 to UTC+14): the stored bounds are widened by that much.
ZONE_MARGIN = timedelta(days=1)
INSTANT = timedelta(microseconds=1)


class MaintenanceWindowQuerySet(models.QuerySet["MaintenanceWindow"]):
    def for_site(self, site: Site) -> MaintenanceWindowQuerySet:
        """The windows that apply to a site: its own and its client's client-wide ones."""
        return self.filter(client_id=site.client_id).filter(
            Q(site__isnull=True) | Q(site_id=site.pk)
        )

    def overlapping(self, start: datetime, end: datetime) -> MaintenanceWindowQuerySet:
        """Windows that may have an occurrence in ``[start, end)``, by their stored bounds."""
        return self.filter(covers_from__lt=end).filter(
            Q(covers_until__isnull=True) | Q(covers_until__gt=start)
        )

    def active_at(self, site: Site, at: datetime) -> MaintenanceWindow | None:
        """The first window (oldest first) with an occurrence running at ``at`` on the site."""
        zone = ZoneInfo(site.time_zone)
        candidates = self.for_site(site).overlapping(at, at + INSTANT).order_by("pk")
        for window in candidates:
            if window.occurrences(zone, at, at + INSTANT):
                return window
        return None


class MaintenanceWindow(NamedModel):
    """Planned work: during it, failures are recorded but no incident opens, nobody is alerted."""

    name_fields = ("title",)
    TENANT_ORG_PATH = "client__organization_id"
    TENANT_CLIENT_PATH = "client_id"

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        verbose_name=_("client"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        verbose_name=_("site"),
        help_text=_("Empty: every site of the client, each at its own local time."),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("public description"),
        blank=True,
        default="",
        help_text=_("Shown to the client, e.g. on the status page."),
    )
    start_date = models.DateField(_("first day"))
    start_time = models.TimeField(_("start time"), help_text=_("The site's local time."))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)],
    )
    rrule = models.CharField(
        _("repeat rule (RRULE)"),
        max_length=500,
        blank=True,
        default="",
        help_text=_("Empty: once. E.g. FREQ=WEEKLY;BYDAY=SU for every Sunday (RFC 5545)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Bounds of every occurrence in any zone, kept by save(), so that queries skip windows
    # that are over without expanding their rules. No end: the rule repeats for ever.
    covers_from = models.DateTimeField(editable=False)
    covers_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["start_date", "start_time", "pk"]
        indexes = [models.Index(fields=["client", "covers_until"], name="maintenance_client_end")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Store the rule in its normal form and the bounds of its occurrences."""
        self.rrule = recurrence.normalize_rule(self.rrule or "")
        self._store_bounds()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "covers_from", "covers_until"}
        super().save(*args, **kwargs)

    @property
    def local_start(self) -> datetime:
        """The first start, as a naive wall-clock time."""
        return datetime.combine(self.start_date, self.start_time)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def as_recurrence(self) -> recurrence.Recurrence:
        """The window as a recurrence; raises ``recurrence.RuleError`` for a bad rule."""
        return recurrence.parse(self.rrule, self.local_start, self.duration)

    def occurrences(
        self, zone: ZoneInfo, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Occurrences overlapping ``[start, end)`` in one zone, as aware UTC pairs.

        A stored rule that no longer reads (written around the validation, or refused by a
        stricter later version) covers nothing: alerts then go out rather than be silenced,
        and the engine and the alert sender keep running.
        """
        try:
            rule = self.as_recurrence()
        except recurrence.RuleError:
            logger.warning("maintenance window %s: unreadable rule %r ignored", self.pk, self.rrule)
            return []
        return recurrence.occurrences(rule, zone, start, end)

    def clean(self) -> None:
        """Check what the fields alone cannot: the site's client, the year, the rule."""
        errors: dict[str, Any] = {}
        if self.site_id is not None and self.client_id is not None:
            owner = Site.objects.filter(pk=self.site_id).values_list("client_id", flat=True)
            if owner.first() not in (None, self.client_id):
                errors["site"] = _("The site belongs to another client.")
        self.rrule = recurrence.normalize_rule(self.rrule or "")
        if self.start_date is not None and not FIRST_YEAR <= self.start_date.year <= LAST_YEAR:
            errors["start_date"] = _("The first day must be between %(first)d and %(last)d.") % {
                "first": FIRST_YEAR,
                "last": LAST_YEAR,
            }
        elif None not in (self.start_date, self.start_time, self.duration_minutes):
            try:
                self.as_recurrence()
            except recurrence.RuleError as exc:
                errors["rrule"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def _store_bounds(self) -> None:
        self.covers_from = self.local_start.replace(tzinfo=UTC) - ZONE_MARGIN
        last = recurrence.last_local_start(self.as_recurrence())
        self.covers_until = (
            None if last is None else last.replace(tzinfo=UTC) + self.duration + ZONE_MARGIN
        )


class HeldOutage(models.Model):
    """A down flip detected during a maintenance window: its incident waits for the window's end.

    Released by ``incidents.maintenance.handle_one_maintenance_end``: into an incident when the
    monitor is still down once no window covers it, or into nothing when it recovered.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="held_outages", verbose_name=_("monitor")
    )
    state_change = models.OneToOneField(
        StateChange, on_delete=models.CASCADE, related_name="held_outage"
    )
    window = models.ForeignKey(
        MaintenanceWindow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_outages",
        verbose_name=_("maintenance window"),
    )
    held_at = models.DateTimeField(_("held"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    incident = models.ForeignKey(
        Incident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )

    class Meta:
        verbose_name = _("outage held by maintenance")
        verbose_name_plural = _("outages held by maintenance")
        ordering = ["-held_at", "-pk"]
        indexes = [
            # The sweep reads only the holds still waiting, usually none.
            models.Index(
                fields=["held_at"],
                condition=Q(released_at__isnull=True),
                name="held_outage_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.held_at:%Y-%m-%d %H:%M:%S}"
