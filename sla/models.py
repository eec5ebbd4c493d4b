"""Care plans (the SLA a client buys), each client's plan history, and error-budget alerts sent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitecare.lib.names import NamedModel
from sitecare.lib.timeutil import validate_time_zone
from sla import terms
from sla.calendar import Calendar
from tenancy.models import Client, Organization

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class MeasurementWindow(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class UnknownTime(models.TextChoices):
    """How a plan counts time nobody knew a monitor's state (the engine not running, a monitor
    paused, a heartbeat never pinged): left out of the figure, or counted as up or as down."""

    EXCLUDED = "excluded", _("Left out (neither up nor down)")
    UP = "up", _("Counted as up")
    DOWN = "down", _("Counted as down")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 – critical")
    P2 = "P2", _("P2 – high")
    P3 = "P3", _("P3 – normal")
    P4 = "P4", _("P4 – low")


def _check(parse: Any, value: Any) -> None:
    try:
        parse(value)
    except terms.TermsError as exc:
        raise ValidationError(str(exc)) from exc


def validate_hours(value: Any) -> None:
    """Django validator for :func:`sla.terms.parse_hours`."""
    _check(terms.parse_hours, value)


def validate_closed_dates(value: Any) -> None:
    """Django validator for :func:`sla.terms.parse_closed_dates`."""
    _check(terms.parse_closed_dates, value)


def validate_credits(value: Any) -> None:
    """Django validator for :func:`sla.terms.parse_credits`."""
    _check(terms.parse_credits, value)


def _minutes(name: StrOrPromise) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        name, null=True, blank=True, validators=[MinValueValidator(1)]
    )


class CarePlan(NamedModel):
    """A tier of care the agency sells: availability, calendar, response times, credits.

    Response and resolution targets are minutes of the plan's calendar (business minutes
    under business hours), empty when the plan promises none for that priority.
    """

    TENANT_ORG_PATH = "organization_id"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="care_plans", verbose_name=_("agency")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100)
    description = models.TextField(_("description"), blank=True, default="")
    availability_target = models.DecimalField(
        _("availability target (%)"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal(100))],
    )
    window = models.CharField(
        _("measurement window"),
        max_length=16,
        choices=MeasurementWindow.choices,
        default=MeasurementWindow.MONTH,
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Warsaw", validators=[validate_time_zone]
    )
    business_hours = models.JSONField(
        _("business hours"),
        default=dict,
        blank=True,
        validators=[validate_hours],
        help_text=_("Hours per weekday, like monday: 08:00-16:00. Empty: around the clock."),
    )
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=8,
        blank=True,
        default="",
        help_text=_("A country code (PL); its public holidays count nothing. Empty: none."),
    )
    holiday_subdivision = models.CharField(_("region"), max_length=16, blank=True, default="")
    closed_dates = models.JSONField(
        _("closed days"),
        default=list,
        blank=True,
        validators=[validate_closed_dates],
    )
    exclude_maintenance = models.BooleanField(
        _("exclude maintenance windows"),
        default=True,
        help_text=_("On: downtime in a maintenance window does not count against the target."),
    )
    unknown_time = models.CharField(
        _("unknown time"),
        max_length=16,
        choices=UnknownTime.choices,
        default=UnknownTime.EXCLUDED,
        help_text=_(
            "Time nobody knew a monitor's state (the probe engine not running, a monitor "
            "paused or not checked yet, a heartbeat never pinged): left out of availability, "
            "counted as up, or counted as down. Time before the client's first monitor is "
            "left out whatever this says, so “counted as up” is total time minus "
            "downtime from the first monitor on."
        ),
    )
    p1_response_minutes = _minutes(_("P1 response (minutes)"))
    p1_resolution_minutes = _minutes(_("P1 resolution (minutes)"))
    p2_response_minutes = _minutes(_("P2 response (minutes)"))
    p2_resolution_minutes = _minutes(_("P2 resolution (minutes)"))
    p3_response_minutes = _minutes(_("P3 response (minutes)"))
    p3_resolution_minutes = _minutes(_("P3 resolution (minutes)"))
    p4_response_minutes = _minutes(_("P4 response (minutes)"))
    p4_resolution_minutes = _minutes(_("P4 resolution (minutes)"))
    support_hours = models.DecimalField(
        _("support hours included per month"),
        max_digits=7,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    rpo_minutes = _minutes(_("backup RPO (minutes)"))
    rto_minutes = _minutes(_("recovery RTO (minutes)"))
    monthly_fee = models.DecimalField(
        _("monthly fee"),
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="PLN")
    credits = models.JSONField(
        _("service credits"),
        default=list,
        blank=True,
        validators=[validate_credits],
        # xgettext:no-python-format
        help_text=_("Tiers like 99.9: 10 (below 99.9 %, 10 % of the fee), one per line."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="care_plan_slug_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Normalise the JSON parts and check that the calendar can be built."""
        self.holiday_country = self.holiday_country.strip().upper()
        errors: dict[str, str] = {}
        for field, parse in (
            ("business_hours", terms.parse_hours),
            ("closed_dates", terms.parse_closed_dates),
            ("credits", terms.parse_credits),
        ):
            try:
                setattr(self, field, parse(getattr(self, field)))
            except terms.TermsError as exc:
                errors[field] = str(exc)
        if errors:
            raise ValidationError(errors)
        try:
            self.calendar()
        except ValueError as exc:
            field, _sep, message = str(exc).partition(": ")
            target = {"country": "holiday_country", "subdivision": "holiday_subdivision"}
            raise ValidationError({target.get(field, "time_zone"): message or str(exc)}) from exc

    def calendar(self) -> Calendar:
        """The time this plan counts."""
        return Calendar(
            time_zone=self.time_zone,
            hours=terms.hours_tuple(terms.parse_hours(self.business_hours)),
            country=self.holiday_country.upper(),
            subdivision=self.holiday_subdivision,
            closed_dates=frozenset(
                date.fromisoformat(day) for day in terms.parse_closed_dates(self.closed_dates)
            ),
        )

    @property
    def is_around_the_clock(self) -> bool:
        return not self.business_hours

    def targets(self, priority: str) -> tuple[timedelta | None, timedelta | None]:
        """The response and resolution targets of a priority (calendar time), or None."""
        code = Priority(priority).value.lower()
        response = getattr(self, f"{code}_response_minutes")
        resolution = getattr(self, f"{code}_resolution_minutes")
        return (
            None if response is None else timedelta(minutes=response),
            None if resolution is None else timedelta(minutes=resolution),
        )

    def window_months(self) -> int:
        return 3 if self.window == MeasurementWindow.QUARTER else 1


class ClientPlan(models.Model):
    """One step of a client's care-plan history: from ``starts_on`` (empty: since always) the
    client has ``plan`` (empty: no plan), at the fee agreed with them when it differs.

    Which step judges a window is ``sla.plan_history``'s business, and only its.
    """

    TENANT_ORG_PATH = "client__organization_id"
    TENANT_CLIENT_PATH = "client_id"

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="plan_steps", verbose_name=_("client")
    )
    plan = models.ForeignKey(
        CarePlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("care plan"),
        help_text=_("Empty: no plan from this day."),
    )
    monthly_fee = models.DecimalField(
        _("agreed monthly fee"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Empty: the plan's fee."),
    )
    starts_on = models.DateField(
        _("from"),
        null=True,
        blank=True,
        help_text=_("Empty: since always. A change dated inside a window judges all of it."),
    )

    class Meta:
        verbose_name = _("client's care plan")
        verbose_name_plural = _("clients' care plans")
        ordering = [models.F("starts_on").asc(nulls_first=True)]
        constraints = [
            models.UniqueConstraint(fields=["client", "starts_on"], name="client_plan_step_a_day"),
            # SQLite (and PostgreSQL) take NULLs as distinct: one "since always" step apart.
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(starts_on__isnull=True),
                name="client_plan_one_since_always",
            ),
        ]

    def __str__(self) -> str:
        since = self.starts_on.isoformat() if self.starts_on is not None else "…"
        return f"{self.client} {since}: {self.plan or '—'}"

    def clean(self) -> None:
        plan = self.plan if self.plan_id is not None else None
        if plan is None:
            if self.monthly_fee is not None:
                raise ValidationError(
                    {"monthly_fee": _("A fee applies to a plan: choose one or leave it empty.")}
                )
            return
        if self.client_id is not None and plan.organization_id != self.client.organization_id:
            raise ValidationError({"plan": _("The plan belongs to another agency.")})

    @property
    def fee(self) -> Decimal | None:
        """The monthly fee in effect: the agreed one, else the plan's (None without a plan)."""
        if self.plan is None:
            return None
        return self.plan.monthly_fee if self.monthly_fee is None else self.monthly_fee


class BudgetAlertLevel(models.IntegerChoices):
    HALF = 50, _("Half of the error budget used")
    EXHAUSTED = 100, _("Error budget used up")


class BudgetAlert(models.Model):
    """An error-budget alert already raised: one per client, window and level."""

    TENANT_ORG_PATH = "client__organization_id"
    TENANT_CLIENT_PATH = "client_id"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="budget_alerts")
    window_start = models.DateTimeField(_("window start"))
    level = models.PositiveSmallIntegerField(_("level"), choices=BudgetAlertLevel.choices)
    consumed_percent = models.DecimalField(_("budget used (%)"), max_digits=9, decimal_places=2)
    raised_at = models.DateTimeField(_("raised"))

    class Meta:
        verbose_name = _("error budget alert")
        verbose_name_plural = _("error budget alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "window_start", "level"], name="budget_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.level}% {self.window_start:%Y-%m-%d}"


class StandingSnapshot(models.Model):
    """A client's standing in its current window (``sla.overview``) as computed at ``as_of``,
    for the pages that list every client (``sla.standings`` says when it is still good)."""

    TENANT_ORG_PATH = "client__organization_id"
    TENANT_CLIENT_PATH = "client_id"

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, primary_key=True, related_name="standing_snapshot"
    )
    as_of = models.DateTimeField(_("as of"))
    window_end = models.DateTimeField(_("window end"))
    # What the figures were computed from, to tell when they no longer hold: the client's
    # plan history (a digest), and the last state change and pause event then recorded.
    plans_digest = models.CharField(max_length=64)
    last_change_id = models.BigIntegerField(default=0)
    last_pause_id = models.BigIntegerField(default=0)
    data = models.JSONField()  # sla.standings.SnapshotData

    class Meta:
        verbose_name = _("stored SLA standing")
        verbose_name_plural = _("stored SLA standings")
        indexes = [models.Index(fields=["as_of"], name="standing_snapshot_as_of")]

    def __str__(self) -> str:
        return f"{self.client} {self.as_of:%Y-%m-%d %H:%M}"
