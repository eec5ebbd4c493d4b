"""Monitors, their kinds and states, and the agency's tags."""

from __future__ import annotations

from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.failures import FailureClass
from sitecare.lib import messages
from sitecare.lib.crypto import EncryptedJSONField
from sitecare.lib.names import NamedModel
from sites.models import Site
from tenancy.models import Organization


class CheckKind(models.TextChoices):
    HTTP = "http", _("HTTP(S)")
    TCP = "tcp", _("TCP port")
    TLS = "tls", _("TLS certificate")
    DNS = "dns", _("DNS records")
    DOMAIN = "domain", _("Domain expiry")
    HEARTBEAT = "heartbeat", _("Heartbeat (push)")
    SEO = "seo", _("SEO accidents")
    CONTENT = "content", _("Content change")
    TRANSACTION = "transaction", _("Transaction (real browser)")
    SPEED = "speed", _("Page speed (real browser)")


# Kinds whose "down" warns about the future (an expiring certificate or domain) or reports an
# accident in the content (SEO, defacement) rather than the site being unreachable.
NOT_CRITICAL_BY_DEFAULT = frozenset(
    {CheckKind.TLS, CheckKind.DOMAIN, CheckKind.SEO, CheckKind.CONTENT, CheckKind.SPEED}
)


def default_critical(kind: str) -> bool:
    """Whether a monitor of this kind counts for the SLA when its definition does not say.

    Availability kinds (http, tcp, dns, heartbeat, transaction, and any new kind) do; warning,
    content and speed kinds (tls, domain, seo, content, speed) do not.
    """
    return kind not in NOT_CRITICAL_BY_DEFAULT


class MonitorState(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    UP = "up", _("Up")
    DOWN = "down", _("Down")


class TagColour(models.TextChoices):
    """The tag palette: each colour carries white text at WCAG AA contrast (at least 4.5:1),
    see ``monitoring.tags.PALETTE``; the CSS classes ``tag--<value>`` paint them."""

    SLATE = "slate", _("Slate")
    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    GREEN = "green", _("Green")
    TEAL = "teal", _("Teal")
    BLUE = "blue", _("Blue")
    INDIGO = "indigo", _("Indigo")
    PURPLE = "purple", _("Purple")
    PINK = "pink", _("Pink")
    BROWN = "brown", _("Brown")


class Tag(NamedModel):
    """An agency's coloured label for grouping monitors (names unique per agency, any case)."""

    TENANT_ORG_PATH = "organization_id"
    # Client users see the tags of their monitors only through those monitors.
    TENANT_CLIENT_PATH = None

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tags", verbose_name=_("agency")
    )
    name = models.CharField(_("name"), max_length=50)
    colour = models.CharField(
        _("colour"), max_length=16, choices=TagColour.choices, default=TagColour.BLUE
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "organization",
                name="tag_name_per_org_any_case",
                violation_error_message=_("The agency already has a tag of this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Monitor(NamedModel):
    """One thing checked on a schedule. Kind-specific options live in ``config`` (encrypted).

    ``config`` is validated by the kind's pydantic model in ``monitoring/checks/<kind>.py``;
    the columns here are the ones every kind shares and the engine schedules on.
    """

    TENANT_ORG_PATH = "site__client__organization_id"
    TENANT_CLIENT_PATH = "site__client_id"

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="monitors", verbose_name=_("site")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=CheckKind.choices)
    url = models.CharField(_("address"), max_length=2000)
    # Encrypted: options may hold credentials (HTTP basic_auth, bearer_token, header values).
    config = EncryptedJSONField(_("options"), default=dict, blank=True)
    interval_s = models.PositiveIntegerField(
        _("interval (seconds)"), default=60, validators=[MinValueValidator(1)]
    )
    timeout_s = models.FloatField(
        _("timeout (seconds)"), default=10.0, validators=[MinValueValidator(0.1)]
    )
    confirm_down = models.PositiveSmallIntegerField(
        _("failures before down"), default=3, validators=[MinValueValidator(1)]
    )
    confirm_up = models.PositiveSmallIntegerField(
        _("successes before up"), default=2, validators=[MinValueValidator(1)]
    )
    # While a flip awaits confirmation the engine re-checks at this faster pace (≤ interval).
    recheck_s = models.PositiveIntegerField(
        _("re-check while confirming (seconds)"), default=10, validators=[MinValueValidator(1)]
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Every creation path (config as code, API, admin) sets it from default_critical(kind)
    # unless told otherwise; the column default only serves rows made directly.
    critical = models.BooleanField(
        _("counts for the SLA"),
        default=True,
        help_text=_(
            "The site counts as down for the SLA while a monitor marked so is down. "
            "Default: yes for HTTP, TCP, DNS and heartbeat monitors; no for certificate, "
            "domain expiry, SEO and content monitors."
        ),
    )

    state = models.CharField(
        _("state"), max_length=8, choices=MonitorState.choices, default=MonitorState.UNKNOWN
    )
    state_since = models.DateTimeField(_("state since"), null=True, blank=True)
    # The running streak: how many consecutive results agreed, and whether they were ok.
    streak_ok = models.BooleanField(null=True, blank=True)
    streak_count = models.PositiveIntegerField(default=0)
    streak_since = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_ok = models.BooleanField(null=True, blank=True)
    last_response_ms = models.FloatField(_("last response time (ms)"), null=True, blank=True)
    last_failure_class = models.CharField(
        max_length=32, choices=FailureClass.choices, blank=True, default=""
    )
    last_message = models.CharField(max_length=500, blank=True, default="")
    # The last message as data, rendered in the reader's language (sitecare.lib.messages).
    last_message_code = messages.code_field()
    last_message_args = messages.args_field()
    # A heartbeat's first ping ever (set once, kept when pings are pruned): before it, nobody
    # knew whether the job ran, so the SLA counts that time as unknown.
    first_ping_at = models.DateTimeField(_("first ping"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="monitors", verbose_name=_("tags"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("monitor")
        verbose_name_plural = _("monitors")
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="monitor_name_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.name}: {self.name}"

    def config_for_engine(self) -> dict[str, Any]:
        return dict(self.config or {})

    @property
    def last_message_text(self) -> str:
        """The last check's message in the active language."""
        return messages.render(self.last_message_code, self.last_message_args, self.last_message)
