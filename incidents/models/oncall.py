"""On-call schedules: a weekly rotation of agency people, and overrides (holiday swaps) on top.

Schedules belong to the agency as a whole (``TENANT_CLIENT_PATH = None``), so the scoping
helper shows them to owners and engineers only; client users never learn they exist. Who is on
call when is worked out by the pure functions of ``incidents.oncall`` from these rows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import time

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitecare.lib.names import NamedModel
from sitecare.lib.timeutil import validate_time_zone
from tenancy.models import Organization, Role

AGENCY_ROLES = (Role.OWNER, Role.ENGINEER)
MAX_ROTATION_WEEKS = 52


def agency_people(organization_id: int) -> models.QuerySet[User]:
    """The active owners and engineers of an organization: who may be on call there."""
    return User.objects.filter(
        is_active=True,
        membership__organization_id=organization_id,
        membership__role__in=AGENCY_ROLES,
    ).order_by("username")


def _check_on_call_person(organization_id: int, user_id: int) -> None:
    if not agency_people(organization_id).filter(pk=user_id).exists():
        raise ValidationError({"user": _("Only the agency's owners and engineers go on call.")})


def installation_time_zone() -> str:
    """A new schedule's zone: the installation's (``SITECARE_TIME_ZONE``)."""
    return str(settings.TIME_ZONE)


class Weekday(models.IntegerChoices):
    """Days as Python numbers them (``date.weekday()``): Monday is 0."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OnCallSchedule(NamedModel):
    """Who answers alerts when: one rotation plus overrides, in one time zone."""

    TENANT_ORG_PATH = "organization_id"
    TENANT_CLIENT_PATH = None  # the agency's own business: client users never see schedules

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="oncall_schedules",
        verbose_name=_("agency"),
    )
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=installation_time_zone,
        validators=[validate_time_zone],
        help_text=_("Hand-offs happen at the local time of this zone, summer time included."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("on-call schedule")
        verbose_name_plural = _("on-call schedules")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="oncall_schedule_name_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Rotation(models.Model):
    """People taking turns: each is on call for ``length_weeks`` weeks, hand-off to hand-off.

    Turns are counted from the hand-off on or before ``starts_on`` (so a rotation starting
    mid-week begins with a shorter first turn); it covers nothing before the hand-off time on
    ``starts_on``.
    A schedule has one rotation for now; the shift functions treat rotations as layers.
    """

    TENANT_ORG_PATH = "schedule__organization_id"
    TENANT_CLIENT_PATH = None

    schedule = models.ForeignKey(
        OnCallSchedule,
        on_delete=models.CASCADE,
        related_name="rotations",
        verbose_name=_("schedule"),
    )
    handoff_weekday = models.PositiveSmallIntegerField(
        _("hand-off day"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    handoff_time = models.TimeField(_("hand-off time"), default=time(9, 0))
    length_weeks = models.PositiveSmallIntegerField(
        _("weeks per turn"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ROTATION_WEEKS)],
    )
    starts_on = models.DateField(_("starts on"))
    participants = models.ManyToManyField(
        User, through="RotationParticipant", related_name="+", verbose_name=_("people")
    )

    class Meta:
        verbose_name = _("rotation")
        verbose_name_plural = _("rotations")
        ordering = ["pk"]
        constraints = [
            # One layer for now; dropping this is all that more layers need in the database.
            models.UniqueConstraint(fields=["schedule"], name="one_rotation_per_schedule")
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.get_handoff_weekday_display()} {self.handoff_time:%H:%M}"


class RotationParticipant(models.Model):
    """One person's place in a rotation's order (0 takes the first turn)."""

    TENANT_ORG_PATH = "rotation__schedule__organization_id"
    TENANT_CLIENT_PATH = None

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        verbose_name = _("rotation participant")
        verbose_name_plural = _("rotation participants")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "position"], name="one_person_per_turn"),
            models.UniqueConstraint(fields=["rotation", "user"], name="one_turn_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.user}"

    def clean(self) -> None:
        # getattr: the admin validates inline rows before their rotation has a schedule.
        schedule = getattr(getattr(self, "rotation", None), "schedule", None)
        if schedule is not None and self.user_id:
            _check_on_call_person(schedule.organization_id, self.user_id)


class OnCallOverride(models.Model):
    """Someone covers a stretch of a schedule instead of whoever the rotation says.

    Overlapping overrides are allowed: the most recently created one wins where they overlap.
    """

    TENANT_ORG_PATH = "schedule__organization_id"
    TENANT_CLIENT_PATH = None

    schedule = models.ForeignKey(
        OnCallSchedule,
        on_delete=models.CASCADE,
        related_name="overrides",
        verbose_name=_("schedule"),
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("on call")
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("on-call override")
        verbose_name_plural = _("on-call overrides")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="oncall_override_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.schedule}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
        schedule = getattr(self, "schedule", None)
        if schedule is not None and self.user_id:
            _check_on_call_person(schedule.organization_id, self.user_id)

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        # clean() already explains a reversed range on its field; the check constraint would
        # repeat it as a nameless error.
        super().validate_constraints(exclude={*(exclude or ()), "ends_at"})
