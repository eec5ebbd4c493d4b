"""Incidents, their timeline, alert channels and the notification outbox."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.templating import validate_template
from monitoring.failures import FailureClass
from monitoring.models import Monitor
from sitecare.lib import messages
from sitecare.lib.crypto import EncryptedTextField, redact_url
from sitecare.lib.names import NamedModel
from sites.models import Site
from tenancy.models import Client, Organization


def new_ack_nonce() -> str:
    """A random value an incident's ack links are signed with: never reused across incidents."""
    return secrets.token_urlsafe(16)


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")


SEVERITY_RANK = {Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


def severities_at_most(severity: str) -> list[str]:
    """The ``min_severity`` values that admit an incident of this severity."""
    rank = SEVERITY_RANK[Severity(severity)]
    return [str(s) for s, r in SEVERITY_RANK.items() if r <= rank]


class Incident(messages.StoresMessages, models.Model):
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
    message_code = messages.code_field()
    message_args = messages.args_field()
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MAJOR
    )
    # Flap detection (incidents/flapping.py): how often the monitor went down again soon after
    # recovering, since when it is up while the resolve waits for a quiet flap window, and what
    # the last alert told people (so at most one open and one resolve alert go out per window).
    flap_count = models.PositiveIntegerField(_("flaps"), default=0)
    up_since = models.DateTimeField(_("up again since"), null=True, blank=True)
    announced_state = models.CharField(
        _("last alert said"),
        max_length=16,
        choices=IncidentState.choices,
        default=IncidentState.OPEN,
    )
    announced_at = models.DateTimeField(_("last alert"), null=True, blank=True)
    # Acknowledgement, its one-click link's secret, and what people write about the incident
    # (incidents.actions, incidents.ack).
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    ack_nonce = models.CharField(max_length=32, default=new_ack_nonce, editable=False)
    affected_monitors = models.ManyToManyField(
        Monitor,
        blank=True,
        related_name="affected_by_incidents",
        verbose_name=_("affected monitors"),
        help_text=_("Other monitors of the client hit by the same outage (its own always is)."),
    )
    root_cause = models.TextField(_("root cause"), blank=True, default="")
    postmortem = models.TextField(
        _("postmortem"), blank=True, default="", help_text=_("Markdown; raw HTML is shown as text.")
    )

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
    def message_text(self) -> str:
        """The message (what the monitor saw) in the active language."""
        return messages.render(self.message_code, self.message_args, self.message)

    @property
    def duration_seconds(self) -> float:
        end = self.resolved_at or timezone.now()
        return max(0.0, (end - self.opened_at).total_seconds())


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    RESOLVED = "resolved", _("Resolved")
    NOTIFICATION_SENT = "notification_sent", _("Notification sent")
    NOTIFICATION_FAILED = "notification_failed", _("Notification failed")
    FLAPPED = "flapped", _("Flapped")
    # Not a timeline line: the event of the notice telling owners that a channel fails.
    CHANNEL_FAILING = "channel_failing", _("Channel failing")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    NOTE = "note", _("Note")
    ESCALATED = "escalated", _("Escalated")
    ESCALATION_ENDED = "escalation_ended", _("Escalation ended")
    SEVERITY_CHANGED = "severity_changed", _("Severity changed")
    UPDATED = "updated", _("Details updated")
    # Not timeline lines either: error-budget alerts of a client (sla.alerts).
    BUDGET_HALF = "budget_half", _("Half of the error budget used")
    BUDGET_EXHAUSTED = "budget_exhausted", _("Error budget used up")


class IncidentEvent(messages.StoresMessages, models.Model):
    """One line of an incident's timeline."""

    TENANT_ORG_PATH = "incident__monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "incident__monitor__site__client_id"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices)
    message = models.CharField(_("message"), max_length=1000, blank=True, default="")
    message_code = messages.code_field()
    message_args = messages.args_field()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def message_text(self) -> str:
        """The timeline line's text in the active language (a note: as its author wrote it)."""
        return messages.render(self.message_code, self.message_args, self.message)


class ChannelQuerySet(models.QuerySet["Channel"]):
    def routable(self) -> ChannelQuerySet:
        """Enabled channels that get alerts by scope and severity (not personal ones)."""
        # Personal channels (``user`` set) are reached through escalation steps only.
        return self.filter(enabled=True, user__isnull=True)


class Channel(NamedModel):
    """Where alerts go: an Apprise URL (encrypted at rest), for the agency, a client or a site."""

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
    # A personal channel reaches one agency member; only escalation policies use it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_channels",
        verbose_name=_("person"),
        help_text=_("Set: a personal channel, used only to page this person."),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channels",
        verbose_name=_("site"),
        help_text=_("Set: the channel gets only this site's alerts."),
    )
    min_severity = models.CharField(
        _("minimum severity"),
        max_length=16,
        choices=Severity.choices,
        default=Severity.MINOR,
        help_text=_("Incidents less severe than this are not sent here."),
    )
    name = models.CharField(_("name"), max_length=200)
    url = EncryptedTextField(_("Apprise URL"))
    enabled = models.BooleanField(_("enabled"), default=True)
    title_template = models.CharField(
        _("title template"),
        max_length=300,
        blank=True,
        default="",
        validators=[validate_template],
        help_text=_("Empty: the built-in title. Placeholders like {site} and {state}."),
    )
    body_template = models.TextField(
        _("message template"),
        max_length=4000,
        blank=True,
        default="",
        validators=[validate_template],
        help_text=_("Empty: the built-in message. Placeholders like {monitor} and {reason}."),
    )
    # Set when a notification ran out of attempts here; cleared by the next success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    last_error_code = messages.code_field()
    last_error_args = messages.args_field()
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert channel")
        verbose_name_plural = _("alert channels")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A site's channel belongs to the site's client (taken from the site when not set)."""
        if self.site_id is None:
            return
        site_client = Site.objects.values_list("client_id", flat=True).get(pk=self.site_id)
        if self.client_id is None:
            self.client_id = site_client
        elif self.client_id != site_client:
            raise ValidationError({"site": _("The site belongs to another client.")})

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0 or self.failing_since is not None

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    @property
    def last_error_text(self) -> str:
        """The last delivery error, in the active language."""
        return messages.render(self.last_error_code, self.last_error_args, self.last_error)


class NotificationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    # Not sent again once the channel worked: a page for an incident acknowledged or resolved
    # meanwhile (incidents.alert_order).
    SUPERSEDED = "superseded", _("Superseded")


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
    last_error_code = messages.code_field()
    last_error_args = messages.args_field()
    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    # When it failed for good (its last attempt, or held back after an earlier one failed):
    # a channel that recovers sends again only what failed in the episode that is ending.
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return self.dedup_key

    @property
    def last_error_text(self) -> str:
        """Why it was not delivered, in the active language."""
        return messages.render(self.last_error_code, self.last_error_args, self.last_error)
