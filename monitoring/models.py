"""Monitors, their check results and the state-change log (kept forever)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
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


class CheckResult(messages.StoresMessages, models.Model):
    """One check's outcome. Raw results are kept for a retention period."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    checked_at = models.DateTimeField(_("checked at"))
    ok = models.BooleanField(_("up"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    response_ms = models.FloatField(_("response time (ms)"), null=True, blank=True)
    failure_class = models.CharField(
        _("failure"), max_length=32, choices=FailureClass.choices, blank=True, default=""
    )
    message = models.CharField(_("message"), max_length=500, blank=True, default="")
    message_code = messages.code_field()
    message_args = messages.args_field()
    # Phases of the request, where the kind has them (HTTP: all; TCP: connect; TLS: + tls).
    dns_ms = models.FloatField(_("DNS lookup (ms)"), null=True, blank=True)
    connect_ms = models.FloatField(_("connect (ms)"), null=True, blank=True)
    tls_ms = models.FloatField(_("TLS handshake (ms)"), null=True, blank=True)
    ttfb_ms = models.FloatField(_("time to first byte (ms)"), null=True, blank=True)
    # Facts a kind reports beside up/down (certificate days left, DNS answers…); null if none.
    details = models.JSONField(_("details"), null=True, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        indexes = [models.Index(fields=["monitor", "checked_at"], name="result_monitor_time")]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.checked_at:%Y-%m-%d %H:%M:%S}: {self.ok}"

    @property
    def message_text(self) -> str:
        """The message in the active language."""
        return messages.render(self.message_code, self.message_args, self.message)


class ArtifactKind(models.TextChoices):
    SCREENSHOT = "screenshot", _("Screenshot")
    TRACE = "trace", _("Playwright trace")


class BrowserArtifact(models.Model):
    """A file a browser check kept (a screenshot, a Playwright trace) with its result.

    Tied to the result by monitor and ``checked_at`` (results are written in bulk, without
    their ids at hand); the file lives under ``SITECARE_ARTIFACT_DIR`` at ``path`` and goes
    with the raw results' retention.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="artifacts")
    checked_at = models.DateTimeField(_("checked at"))
    kind = models.CharField(_("kind"), max_length=16, choices=ArtifactKind.choices)
    # Which step it belongs to, and its caption (a screenshot step's description).
    step = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True, default="")
    path = models.CharField(max_length=300)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("browser artifact")
        verbose_name_plural = _("browser artifacts")
        indexes = [models.Index(fields=["monitor", "checked_at"], name="artifact_monitor_time")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.monitor_id} @ {self.checked_at:%Y-%m-%d %H:%M:%S}"


class StateChange(messages.StoresMessages, models.Model):
    """A monitor's flip between up and down: the exact outage intervals, kept forever."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField(_("at"))
    from_state = models.CharField(max_length=8, choices=MonitorState.choices)
    to_state = models.CharField(max_length=8, choices=MonitorState.choices)
    failure_class = models.CharField(
        max_length=32, choices=FailureClass.choices, blank=True, default=""
    )
    message = models.CharField(max_length=500, blank=True, default="")
    message_code = messages.code_field()
    message_args = messages.args_field()

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["monitor", "at"], name="statechange_monitor_time")]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state} @ {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def message_text(self) -> str:
        """The message in the active language."""
        return messages.render(self.message_code, self.message_args, self.message)


class PauseAction(models.TextChoices):
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")


class PauseVia(models.TextChoices):
    """The path a pause or resume came by."""

    WEB = "web", _("web")
    API = "api", _("API")
    CONFIG = "config", _("configuration file")
    ADMIN = "admin", _("admin")
    SYSTEM = "system", _("sitecare")


class PauseEvent(models.Model):
    """A monitor paused or resumed: when, by whom and by which path; kept forever.

    Written only by ``monitoring.pauses.set_enabled`` (and ``record_created`` for a monitor
    made paused), in the transaction that changes ``Monitor.enabled``. ``actor`` is who did
    it as they were named then (a user name, an API token's name, a configuration file), so
    the record outlives the user or token it names.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="pause_events")
    at = models.DateTimeField(_("at"))
    action = models.CharField(_("action"), max_length=8, choices=PauseAction.choices)
    via = models.CharField(_("by way of"), max_length=8, choices=PauseVia.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    token = models.ForeignKey(
        "tenancy.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API token"),
    )
    actor = models.CharField(_("by"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("pause or resume")
        verbose_name_plural = _("pauses and resumes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["monitor", "at"], name="pause_monitor_time")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.action} @ {self.at:%Y-%m-%d %H:%M:%S} by {self.actor}"


class HourlyRollup(models.Model):
    """One monitor's checks in one UTC hour: counts and a latency histogram, kept forever.

    Maintained incrementally by ``monitoring.rollups`` as results are stored; charts and
    reports read these rows, so raw results can be pruned without losing history.
    ``buckets[i]`` counts successful checks whose response time fell into the i-th bucket of
    ``monitoring.rollups.BOUNDS_MS``; trailing empty buckets are left out to keep rows small.
    """

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="rollups")
    hour = models.DateTimeField(_("hour (UTC)"))
    checks = models.PositiveIntegerField(_("checks"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    # Latency figures cover successful checks only: a failure's time measures the failure.
    latency_count = models.PositiveIntegerField(default=0)
    latency_sum_ms = models.FloatField(default=0.0)
    latency_min_ms = models.FloatField(null=True, blank=True)
    latency_max_ms = models.FloatField(null=True, blank=True)
    buckets = models.JSONField(_("latency histogram"), default=list, blank=True)

    class Meta:
        verbose_name = _("hourly rollup")
        verbose_name_plural = _("hourly rollups")
        constraints = [
            models.UniqueConstraint(fields=["monitor", "hour"], name="rollup_monitor_hour")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.hour:%Y-%m-%d %H}:00Z: {self.failures}/{self.checks}"


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


class PingKind(models.TextChoices):
    START = "start", _("Started")
    SUCCESS = "success", _("Succeeded")
    FAIL = "fail", _("Failed")


class HeartbeatPing(models.Model):
    """One signal a job sent to its heartbeat monitor's secret URL, stored before the answer."""

    TENANT_ORG_PATH = "monitor__site__client__organization_id"
    TENANT_CLIENT_PATH = "monitor__site__client_id"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="pings")
    received_at = models.DateTimeField(_("received at"))
    kind = models.CharField(_("signal"), max_length=8, choices=PingKind.choices)
    exit_code = models.PositiveSmallIntegerField(_("exit code"), null=True, blank=True)
    # What the job chose to send (a log tail, say), truncated to a small size.
    body = models.TextField(_("body"), blank=True, default="")
    remote_addr = models.CharField(_("sender address"), max_length=64, blank=True, default="")
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("heartbeat ping")
        verbose_name_plural = _("heartbeat pings")
        indexes = [
            models.Index(fields=["monitor", "kind", "received_at"], name="ping_monitor_kind_time")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} @ {self.received_at:%Y-%m-%d %H:%M:%S}: {self.kind}"


class RunLoop(models.TextChoices):
    """Which background loop a run was: the probe engine, or a job runner (browser checks)."""

    PROBE_ENGINE = "probe-engine", _("probe engine")
    JOB_RUNNER = "job-runner", _("job runner")


class EngineRun(models.Model):
    """One run of a probe engine (or of a job runner, ``loop``): when it started, when it was
    last alive, when it stopped.

    The engine writes its row at start, moves ``last_seen_at`` forward every beat
    (``SITECARE_ENGINE_BEAT_SECONDS``) and sets ``stopped_at`` (and ``last_seen_at``) on a
    clean stop. A run that died without stopping is taken to have lasted until its last beat
    plus a grace (``monitoring.engine_runs``): time no run covers is time nobody watched.
    Not tenant data: one engine checks every agency's monitors.
    """

    started_at = models.DateTimeField(_("started at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    # The probe engine watches the monitors it probes; job runners watch the browser kinds.
    loop = models.CharField(
        _("loop"), max_length=20, choices=RunLoop.choices, default=RunLoop.PROBE_ENGINE
    )

    class Meta:
        verbose_name = _("probe engine run")
        verbose_name_plural = _("probe engine runs")
        # Runs overlapping [start, end): last_seen_at >= start - grace (a range on the first
        # column; a run's end is at most its last beat plus the grace), then started_at < end.
        indexes = [
            models.Index(fields=["last_seen_at", "started_at"], name="engine_run_seen_start"),
            models.Index(fields=["started_at"], name="engine_run_start"),
        ]

    def __str__(self) -> str:
        return f"{self.host}:{self.pid} @ {self.started_at:%Y-%m-%d %H:%M:%S}"


# Models in modules of their own (kept apart for size), registered with the app from here.
from monitoring.models_speed import SpeedMeasurement as SpeedMeasurement  # noqa: E402
from monitoring.models_speed import SpeedProfile as SpeedProfile  # noqa: E402
