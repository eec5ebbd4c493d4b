"""Public status pages: a client's chosen monitors as components, public updates on incidents,
email subscribers and the outbox of their emails.

Only monitors chosen as components are ever shown; every other monitor is private and nothing
about it (name, id, address, count) reaches a page. Components are named publicly by their own
display name and id, never by the monitor's. Tenants type no CSS, script or analytics code:
the branding is an accent colour (``#rrggbb``), a shown agency name and an https logo address.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models.core import Incident
from monitoring.models import Monitor
from sitecare.lib.names import NamedModel
from tenancy.models import Client

# A DNS host name: labels of letters, digits and inner hyphens, at least one dot.
HOST_NAME_PATTERN = (
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
validate_host_name = RegexValidator(
    HOST_NAME_PATTERN,
    _("Enter a host name such as status.shop.example (no scheme, port or path)."),
)
validate_accent_color = RegexValidator(
    r"^#[0-9a-f]{6}$", _("Enter a colour as #rrggbb, e.g. #2563eb.")
)
validate_https_url = URLValidator(
    schemes=["https"], message=_("Enter an https:// address, or leave it empty.")
)
DEFAULT_ACCENT = "#2563eb"


def new_nonce() -> str:
    return secrets.token_hex(16)


class StatusPage(NamedModel):
    """One public status page of a client, at ``/status/<slug>/`` or its own host name."""

    name_fields = ("title", "agency_name")
    TENANT_ORG_PATH = "client__organization_id"
    TENANT_CLIENT_PATH = "client_id"

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="status_pages", verbose_name=_("client")
    )
    slug = models.SlugField(
        _("address name"),
        max_length=100,
        unique=True,
        help_text=_("The page is served at /status/<address name>/."),
    )
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(
        _("introduction"), blank=True, default="", help_text=_("Public text above the components.")
    )
    custom_domain = models.CharField(
        _("custom domain"),
        max_length=253,
        blank=True,
        default="",
        validators=[validate_host_name],
        help_text=_(
            "Optional host name (e.g. status.shop.example) pointed at sitecare; the page is "
            "then also served at its root. TLS is the reverse proxy's job."
        ),
    )
    accent_color = models.CharField(
        _("accent colour"), max_length=7, default=DEFAULT_ACCENT, validators=[validate_accent_color]
    )
    agency_name = models.CharField(
        _("shown agency name"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Shown in the page's footer; empty: none."),
    )
    logo_url = models.CharField(
        _("logo address"),
        max_length=500,
        blank=True,
        default="",
        validators=[validate_https_url],
        help_text=_("Optional https:// address of a logo image."),
    )
    published = models.BooleanField(
        _("published"), default=False, help_text=_("Unpublished pages answer 404 to everyone.")
    )
    allow_subscriptions = models.BooleanField(
        _("readers may subscribe"),
        default=True,
        help_text=_("Offer the page's readers email updates of its incidents."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("status page")
        verbose_name_plural = _("status pages")
        ordering = ["title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["custom_domain"],
                condition=~Q(custom_domain=""),
                name="status_page_custom_domain_unique",
                violation_error_message=_("Another status page uses this domain."),
                violation_error_code="unique",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.custom_domain = normal_host(self.custom_domain)
        super().save(*args, **kwargs)

    def clean_fields(self, exclude: Any = None) -> None:
        """Normalize before validating: host name and colour lowercased, blanks trimmed."""
        self.custom_domain = normal_host(self.custom_domain)
        self.accent_color = (self.accent_color or "").strip().lower()
        self.logo_url = (self.logo_url or "").strip()
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        """Refuse the install's own host names as a custom domain."""
        if self.custom_domain and self.custom_domain in own_host_names():
            raise ValidationError(
                {"custom_domain": _("This is sitecare's own host name, not a custom domain.")}
            )


def normal_host(value: str | None) -> str:
    """A host name as compared: trimmed, lowercased, without a trailing dot."""
    return (value or "").strip().lower().rstrip(".")


def own_host_names() -> set[str]:
    """The host names sitecare itself answers on (``ALLOWED_HOSTS`` and the base URL's)."""
    hosts = {normal_host(str(h)).lstrip(".") for h in settings.ALLOWED_HOSTS}
    base_host = urlsplit(str(settings.SITECARE_BASE_URL)).hostname
    if base_host:
        hosts.add(normal_host(base_host))
    return hosts


class StatusComponent(NamedModel):
    """A monitor shown on a page, under a public display name of its own."""

    TENANT_ORG_PATH = "page__client__organization_id"
    TENANT_CLIENT_PATH = "page__client_id"

    page = models.ForeignKey(
        StatusPage, on_delete=models.CASCADE, related_name="components", verbose_name=_("page")
    )
    monitor = models.ForeignKey(
        Monitor,
        on_delete=models.CASCADE,
        related_name="status_components",
        verbose_name=_("monitor"),
    )
    name = models.CharField(
        _("public name"), max_length=200, help_text=_("Shown instead of the monitor's own name.")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("status page component")
        verbose_name_plural = _("status page components")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "monitor"],
                name="status_component_monitor_once",
                violation_error_message=_("This monitor is already a component of the page."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The monitor must belong to the page's client."""
        if self.page_id is None or self.monitor_id is None:
            return
        owner = Monitor.objects.filter(pk=self.monitor_id).values_list("site__client_id", flat=True)
        page_client = StatusPage.objects.filter(pk=self.page_id).values_list("client_id", flat=True)
        if owner.first() != page_client.first():
            raise ValidationError({"monitor": _("The monitor belongs to another client.")})


class UpdateStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")


class PublicUpdate(models.Model):
    """What staff tell the public about an incident; shown on every page showing the incident."""

    TENANT_ORG_PATH = "incident__monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "incident__monitor__site__client_id"

    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="public_updates",
        verbose_name=_("incident"),
    )
    status = models.CharField(_("status"), max_length=16, choices=UpdateStatus.choices)
    body = models.TextField(_("message"), max_length=5000)
    posted_at = models.DateTimeField(_("posted"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )

    class Meta:
        verbose_name = _("public update")
        verbose_name_plural = _("public updates")
        ordering = ["posted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} @ {self.posted_at:%Y-%m-%d %H:%M}"


class StatusSubscriber(models.Model):
    """An email address that asked for a page's updates; emailed only once confirmed.

    No token is stored: confirm and unsubscribe links are signed with the install's secret
    key over the subscriber's id and ``nonce`` (``incidents.statuspage_mail``), so a database
    dump holds nothing that acts for a subscriber.
    """

    TENANT_ORG_PATH = "page__client__organization_id"
    TENANT_CLIENT_PATH = "page__client_id"

    page = models.ForeignKey(
        StatusPage, on_delete=models.CASCADE, related_name="subscribers", verbose_name=_("page")
    )
    email = models.EmailField(_("email"), max_length=254)
    created_at = models.DateTimeField(_("subscribed"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    nonce = models.CharField(max_length=32, default=new_nonce, editable=False)

    class Meta:
        verbose_name = _("status page subscriber")
        verbose_name_plural = _("status page subscribers")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["page", "email"], name="status_subscriber_once")
        ]

    def __str__(self) -> str:
        return self.email


class StatusEmailKind(models.TextChoices):
    CONFIRM = "confirm", _("Confirmation request")
    UPDATE = "update", _("Incident update")


class StatusEmailState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class StatusEmail(models.Model):
    """The outbox of subscriber emails: a row first, sent after commit, retried with backoff.

    The text is rendered when sending (links carry freshly signed tokens, none rests here).
    """

    TENANT_ORG_PATH = "page__client__organization_id"
    TENANT_CLIENT_PATH = "page__client_id"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="emails")
    subscriber = models.ForeignKey(
        StatusSubscriber, on_delete=models.CASCADE, related_name="emails"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=StatusEmailKind.choices)
    update = models.ForeignKey(
        PublicUpdate, on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    dedup_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=StatusEmailState.choices,
        default=StatusEmailState.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("status page email")
        verbose_name_plural = _("status page emails")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="status_email_due")]

    def __str__(self) -> str:
        return self.dedup_key
