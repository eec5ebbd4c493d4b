"""Organizations (agencies), their clients, the people in them and their API tokens."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitecare.lib.crypto import EncryptedTextField, keyed_digest
from sitecare.lib.names import NamedModel

logger = logging.getLogger("sitecare.accounts")


def validate_allowlist(value: str) -> None:
    """Each non-empty line must be an IP network (``127.0.0.0/8``, ``::1/128``)."""
    for number, line in enumerate(value.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ValidationError(
                _("Line %(line)s: %(entry)s is not an IP network."),
                params={"line": number, "entry": entry},
            ) from exc


class Organization(NamedModel):
    """The agency: owns clients, people, channels; the root of every tenant's data."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    ssrf_allowlist = models.TextField(
        _("network allowlist"),
        blank=True,
        default="",
        validators=[validate_allowlist],
        help_text=_(
            "Private or loopback networks that monitors of this agency may reach, one CIDR per "
            "line. Empty: only public addresses."
        ),
    )
    language = models.CharField(
        _("alert language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Language of the alerts this agency's channels receive."),
    )
    flap_window_seconds = models.PositiveIntegerField(
        _("flap window (seconds)"),
        default=600,
        help_text=_(
            "A monitor that goes down again within this time after recovering is flapping: its "
            "incident gets at most one down and one up alert per window. 0 turns this off."
        ),
    )
    require_two_factor = models.BooleanField(
        _("require two-factor sign-in"),
        default=False,
        help_text=_(
            "Members without two-factor sign-in must set it up after their password before "
            "they can use anything else. API tokens keep working."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        nets = []
        for line in self.ssrf_allowlist.splitlines():
            entry = line.strip()
            if entry and not entry.startswith("#"):
                nets.append(ipaddress.ip_network(entry, strict=False))
        return tuple(nets)


class Client(NamedModel):
    """A business whose websites the agency takes care of."""

    TENANT_ORG_PATH = "organization_id"
    TENANT_CLIENT_PATH = "pk"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="clients", verbose_name=_("agency")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="client_slug_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Agency owner")
    ENGINEER = "engineer", _("Agency engineer")
    CLIENT = "client", _("Client user")


class Membership(models.Model):
    """A user's place in one organization: role, the client they belong to, language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("Required for client users: the only client they can see."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        default="",
        choices=[("", _("Browser default")), *settings.LANGUAGES],
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def clean(self) -> None:
        if self.role == Role.CLIENT and self.client_id is None:
            raise ValidationError({"client": _("A client user must belong to a client.")})
        if self.role != Role.CLIENT and self.client_id is not None:
            raise ValidationError({"client": _("Only client users belong to a client.")})
        if self.client is not None and self.client.organization_id != self.organization_id:
            raise ValidationError({"client": _("The client belongs to another agency.")})

    @property
    def is_agency(self) -> bool:
        return self.role in (Role.OWNER, Role.ENGINEER)


TOKEN_PREFIX = "sc_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def password_mark(password_hash: str) -> str:
    """What a token remembers of its owner's stored password (a keyed digest of the hash)."""
    return keyed_digest("tenancy.ApiToken.password_mark", password_hash)


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the raw value is shown once.

    Changing the owner's password revokes it, unless it was made to survive password
    changes (a choice made when creating it, on the profile page only). Like Django's session
    hash, the token is tied to the owner's stored password when it is issued
    (``password_mark``): a token whose mark no longer matches the stored password is revoked
    when it is next used, whatever path changed the password (``set_password``, the admin's
    "disable password-based authentication", a direct assignment or ``update()``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # Keyed digest of the owner's password hash when the token was issued (``password_mark``).
    password_mark = models.CharField(max_length=64, blank=True, default="", editable=False)
    survives_password_change = models.BooleanField(
        _("survives password changes"),
        default=False,
        editable=False,
        help_text=_("Kept when its owner's password changes (for unattended scripts)."),
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(
        cls, user: object, name: str, *, survives_password_change: bool = False
    ) -> tuple[ApiToken, str]:
        """Create a token and return it with its raw value (never stored)."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            token_hash=hash_token(raw),
            hint=raw[: len(TOKEN_PREFIX) + 6],
            password_mark=password_mark(str(getattr(user, "password", ""))),
            survives_password_change=survives_password_change,
        )
        return token, raw

    @classmethod
    def holding(cls, raw: str) -> ApiToken | None:
        """The token with the raw value ``raw`` (its user loaded) if it still holds: its owner
        is active and, unless it survives password changes, has the password it was issued
        under. A token that outlived its password is deleted, so it is revoked for good."""
        if not raw.startswith(TOKEN_PREFIX):
            return None
        token = cls.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
        if token is None:
            return None
        if token.outlived_password(token.user.password):
            cls.objects.filter(pk=token.pk).delete()
            logger.info(
                "API token %s of user %s revoked: the password changed", token.pk, token.user_id
            )
            return None
        return token if token.user.is_active else None

    def outlived_password(self, password_hash: str) -> bool:
        """Whether the owner's password changed since this token was issued (and the token
        was not made to survive that)."""
        if self.survives_password_change:
            return False
        return not hmac.compare_digest(self.password_mark, password_mark(password_hash))

    @classmethod
    def fate_on_password_change(cls, user_id: int) -> tuple[int, int]:
        """How many of the user's tokens a password change would revoke, and keep."""
        mine = cls.objects.filter(user_id=user_id)
        kept = mine.filter(survives_password_change=True).count()
        return mine.count() - kept, kept

    @classmethod
    def revoke_on_password_change(cls, user_id: int) -> int:
        """Delete the user's tokens that do not survive a password change; how many went."""
        deleted, _by_model = cls.objects.filter(
            user_id=user_id, survives_password_change=False
        ).delete()
        return deleted


class ThrottleKind(models.TextChoices):
    ACCOUNT = "account", _("account name")
    DEVICE = "device", _("device (signed in before)")
    ADDRESS = "address", _("address (web sign-in)")
    TOKEN_ADDRESS = "token_address", _("address (API tokens)")


class SignInThrottle(models.Model):
    """Failed sign-ins of one account name, device or client address, and the lock they
    earned.

    Kept in the database so that every web worker and process sees the same count. The key
    of an account is a keyed digest of its name as typed (casefolded), so names that do not
    exist are counted exactly like real ones; the label names the account for the operator
    only when one by that name exists, so no other typed text is kept. Rows quiet for longer than
    their kind forgets failures after are deleted as new ones come (``throttle.purge_quiet``).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ThrottleKind.choices)
    key = models.CharField(_("key"), max_length=64)
    label = models.CharField(
        _("account"),
        max_length=150,
        blank=True,
        default="",
        help_text=_("The account the attempts were for, when it exists."),
    )
    failures = models.PositiveIntegerField(_("failures"), default=0)
    last_failure_at = models.DateTimeField(_("last failure"))
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="signin_throttle_kind_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label or self.key[:12]}: {self.failures}"


class TwoFactor(models.Model):
    """A user's second factor: a TOTP secret (RFC 6238), encrypted at rest.

    The row outlives turning two-factor sign-in off, because it holds the session epoch: each
    turn on or off raises it, and a session signed in under an older epoch ends.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="two_factor",
    )
    # Set while enrolling, kept while on, emptied when turned off.
    secret = EncryptedTextField(_("secret"), blank=True, default="")
    # When a first code proved the app holds the secret; None while enrolling or off.
    confirmed_at = models.DateTimeField(_("turned on"), null=True, blank=True)
    # The last time step whose code was accepted: that code, and older ones, never work again.
    last_step = models.BigIntegerField(null=True, blank=True, editable=False)
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("two-factor sign-in")
        verbose_name_plural = _("two-factor sign-ins")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def enabled(self) -> bool:
        # Turning it off empties both; confirmed_at alone is what sessions are checked by.
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A one-time code for signing in without the authenticator app; only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({'used' if self.used_at else 'unused'})"
