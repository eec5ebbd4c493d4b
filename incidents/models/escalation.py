"""Escalation policies: who is paged, in which order, until someone acknowledges.

A policy is the agency's own business (``TENANT_CLIENT_PATH = None``): owners and engineers see
and edit it, client users never learn it exists. It applies to a monitor through a
``PolicyAssignment`` of the monitor, else of its site, else of its client, else the agency's
default policy.
An ``EscalationRun`` follows one incident through the steps of the policy it started with
(a snapshot, so editing a policy never reshuffles an escalation in flight); the runtime is
``incidents.escalation``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.core import Channel, Incident
from incidents.models.oncall import OnCallSchedule
from monitoring.models import Monitor
from sitecare.lib.names import NamedModel
from sites.models import Site
from tenancy.models import Client, Organization

MAX_STEPS = 10
MAX_REPEAT = 9
MAX_WAIT_MINUTES = 24 * 60


class EscalationPolicy(NamedModel):
    """Ordered steps of people and channels to page while an incident is unacknowledged."""

    TENANT_ORG_PATH = "organization_id"
    TENANT_CLIENT_PATH = None  # the agency's own business

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="escalation_policies",
        verbose_name=_("agency"),
    )
    name = models.CharField(_("name"), max_length=200)
    is_default = models.BooleanField(
        _("default policy"),
        default=False,
        help_text=_("Used for every site whose site or client has no policy of its own."),
    )
    repeat = models.PositiveSmallIntegerField(
        _("repeat"),
        default=0,
        validators=[MaxValueValidator(MAX_REPEAT)],
        help_text=_("How many more times to go through all steps when nobody acknowledges."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="escalation_policy_name_per_org"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="one_default_escalation_policy_per_org",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """One step: page these channels, people and on-call people, then wait for an ack."""

    TENANT_ORG_PATH = "policy__organization_id"
    TENANT_CLIENT_PATH = None

    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.CASCADE, related_name="steps", verbose_name=_("policy")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    wait_minutes = models.PositiveIntegerField(
        _("wait (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAIT_MINUTES)],
        help_text=_("Minutes to wait for an acknowledgement before the next step."),
    )
    channels = models.ManyToManyField(
        Channel, blank=True, related_name="escalation_steps", verbose_name=_("channels")
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("people")
    )
    schedules = models.ManyToManyField(
        OnCallSchedule,
        blank=True,
        related_name="escalation_steps",
        verbose_name=_("on call in"),
    )

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="one_step_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.position + 1}"


class PolicyAssignment(models.Model):
    """A policy chosen for one client, one site or one monitor (exactly one of them)."""

    TENANT_ORG_PATH = "policy__organization_id"
    TENANT_CLIENT_PATH = None

    policy = models.ForeignKey(
        EscalationPolicy,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("policy"),
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    monitor = models.ForeignKey(
        Monitor,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("monitor"),
    )

    class Meta:
        verbose_name = _("policy assignment")
        verbose_name_plural = _("policy assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(client__isnull=False, site__isnull=True, monitor__isnull=True)
                    | models.Q(client__isnull=True, site__isnull=False, monitor__isnull=True)
                    | models.Q(client__isnull=True, site__isnull=True, monitor__isnull=False)
                ),
                name="policy_assignment_one_target",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(client__isnull=False),
                name="one_policy_per_client",
            ),
            models.UniqueConstraint(
                fields=["site"], condition=models.Q(site__isnull=False), name="one_policy_per_site"
            ),
            models.UniqueConstraint(
                fields=["monitor"],
                condition=models.Q(monitor__isnull=False),
                name="one_policy_per_monitor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} → {self.monitor or self.site or self.client}"


class EscalationStop(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    EXHAUSTED = "exhausted", _("Every step paged, nobody acknowledged")


class EscalationRun(models.Model):
    """One incident's way through its policy: the step last paged and when the next one is due.

    ``steps`` is the policy as it was when the incident opened: a list of
    ``{"wait_minutes": int, "channels": [id], "users": [id], "schedules": [id]}``.
    ``step_index`` and ``round`` (both from 0) name the step paged last.
    """

    TENANT_ORG_PATH = "incident__monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = None  # who gets paged is the agency's business

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="escalation", verbose_name=_("incident")
    )
    policy = models.ForeignKey(
        EscalationPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("policy"),
    )
    policy_name = models.CharField(_("policy name"), max_length=200)
    repeat = models.PositiveSmallIntegerField(_("repeat"), default=0)
    steps = models.JSONField(_("steps"), default=list)
    step_index = models.PositiveSmallIntegerField(_("step"), default=0)
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    started_at = models.DateTimeField(_("started"))
    next_at = models.DateTimeField(_("next step due"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    stop_reason = models.CharField(
        _("stop reason"), max_length=16, choices=EscalationStop.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("escalation run")
        verbose_name_plural = _("escalation runs")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_at"],
                condition=models.Q(stopped_at__isnull=True),
                name="escalation_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident}: {self.policy_name}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None
