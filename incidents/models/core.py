"""Incidents, their timeline, alert channels and the notification outbox."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.failures import FailureClass
from monitoring.models import Monitor
from sitecare.lib.crypto import EncryptedTextField, redact_url
from tenancy.models import Client, Organization


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Incident(models.Model):
    """A confirmed outage of one monitor, from the down flip to the up flip."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="incidents", verbose_name=_("monitor")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    opened_at = models.DateTimeField(_("opened"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    failure_class = models.CharField(
        _("cause"), max_length=32, choices=FailureClass.choices, blank=True, default=""
    )
    message = models.CharField(_("message"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # At most one open incident per monitor, whatever races happen.
            models.UniqueConstraint(
                fields=["monitor"],
                condition=models.Q(state="open"),
                name="one_open_incident_per_monitor",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.monitor}"

    @property
    def duration_seconds(self) -> float:
        end = self.resolved_at or timezone.now()
        return max(0.0, (end - self.opened_at).total_seconds())


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    RESOLVED = "resolved", _("Resolved")
    NOTIFICATION_SENT = "notification_sent", _("Notification sent")
    NOTIFICATION_FAILED = "notification_failed", _("Notification failed")


class IncidentEvent(models.Model):
    """One line of an incident's timeline."""

    TENANT_ORG_PATH = "incident__monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "incident__monitor__site__client_id"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices)
    message = models.CharField(_("message"), max_length=1000, blank=True, default="")

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Channel(models.Model):
    """Where alerts go: an Apprise URL (encrypted at rest), for the agency or one client."""

    TENANT_ORG_PATH = "organization_id"
    TENANT_CLIENT_PATH = "client_id"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="channels", verbose_name=_("agency")
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channels",
        verbose_name=_("client"),
        help_text=_("Empty: the channel gets alerts of every client of the agency."),
    )
    name = models.CharField(_("name"), max_length=200)
    url = EncryptedTextField(_("Apprise URL"))
    enabled = models.BooleanField(_("enabled"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("alert channel")
        verbose_name_plural = _("alert channels")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)


class NotificationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """The outbox: one message for one channel, written in the transaction that caused it."""

    TENANT_ORG_PATH = "channel__organization_id"
    TENANT_CLIENT_PATH = "channel__client_id"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    event = models.CharField(_("event"), max_length=32, choices=EventKind.choices)
    dedup_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"))
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=NotificationState.choices,
        default=NotificationState.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return self.dedup_key
