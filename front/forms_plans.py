"""Forms of the care-plan pages: a plan with all its terms, and a step of a client's plan history.

The parts of a plan that are more than one number (business hours, closed days, credit tiers)
are read with ``sla.terms``, the parsers the model, the API and config-as-code share, so every
path accepts and refuses the same input with the same message; here each message is put on
the input it is about.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import BoundField
from django.utils.dates import WEEKDAYS
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from front.widgets import DateInput
from sla import terms
from sla.calendar import WEEKDAYS as DAY_NAMES
from sla.models import CarePlan, ClientPlan, Priority, UnknownTime
from tenancy.models import Client, Organization

AROUND_THE_CLOCK = "always"
BUSINESS_HOURS = "business"
NEW_PLAN_HOURS = dict.fromkeys(DAY_NAMES[:5], "08:00-16:00")
PRIORITY_FIELDS = [
    (priority, f"{priority.lower()}_response_minutes", f"{priority.lower()}_resolution_minutes")
    for priority in Priority.values
]


def _hours_field(day_number: int) -> forms.CharField:
    return forms.CharField(
        label=WEEKDAYS[day_number],
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "08:00-16:00", "size": 12}),
    )


class CarePlanForm(forms.ModelForm):
    """Every term of a care plan; the calendar as a 24/7 choice and seven weekday inputs."""

    calendar = forms.ChoiceField(
        label=gettext_lazy("Time in scope"),
        choices=[
            (AROUND_THE_CLOCK, gettext_lazy("24/7: every hour of every day")),
            (BUSINESS_HOURS, gettext_lazy("Business hours (below)")),
        ],
        widget=forms.RadioSelect,
        initial=AROUND_THE_CLOCK,
    )
    # A plain input offering the choices: the value is checked by the plan model, as from the
    # API and config as code, with the same message.
    unknown_time = forms.CharField(
        label=capfirst(CarePlan._meta.get_field("unknown_time").verbose_name),
        help_text=CarePlan._meta.get_field("unknown_time").help_text,
        widget=forms.Select(choices=UnknownTime.choices),
        initial=UnknownTime.EXCLUDED,
    )
    hours_monday = _hours_field(0)
    hours_tuesday = _hours_field(1)
    hours_wednesday = _hours_field(2)
    hours_thursday = _hours_field(3)
    hours_friday = _hours_field(4)
    hours_saturday = _hours_field(5)
    hours_sunday = _hours_field(6)
    closed_dates = forms.CharField(
        label=gettext_lazy("Closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-12-24"}),
        help_text=gettext_lazy("One date (YYYY-MM-DD) a line; these days count nothing."),
    )
    credits = forms.CharField(
        label=gettext_lazy("Service credits"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "99.9: 10\n99: 25"}),
        help_text=gettext_lazy(
            # xgettext:no-python-format
            "One tier a line, like 99.9: 10 (availability below 99.9 % gives back 10 % of "
            "the fee); the largest tier that applies is owed."
        ),
    )

    class Meta:
        model = CarePlan
        fields = [
            "name",
            "slug",
            "description",
            "availability_target",
            "window",
            "time_zone",
            "holiday_country",
            "holiday_subdivision",
            "closed_dates",
            "exclude_maintenance",
            "unknown_time",
            *(
                name
                for _p, response, resolution in PRIORITY_FIELDS
                for name in (response, resolution)
            ),
            "support_hours",
            "rpo_minutes",
            "rto_minutes",
            "monthly_fee",
            "currency",
            "credits",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        self.fields["slug"].required = False
        self.fields["slug"].help_text = (
            _("Empty: kept as it is.") if self.instance.pk else _("Empty: made from the name.")
        )
        plan = self.instance
        hours = plan.business_hours or NEW_PLAN_HOURS
        self.initial.update(
            {
                "calendar": BUSINESS_HOURS if plan.business_hours else AROUND_THE_CLOCK,
                **{f"hours_{day}": hours.get(day, "") for day in DAY_NAMES},
                "closed_dates": "\n".join(plan.closed_dates or []),
                "credits": terms.credits_text(plan.credits or []),
            }
        )

    def hour_fields(self) -> list[BoundField]:
        return [self[f"hours_{day}"] for day in DAY_NAMES]

    def priority_rows(self) -> list[tuple[str, BoundField, BoundField]]:
        """(priority label, response input, resolution input) for the targets table."""
        return [
            (str(Priority(priority).label), self[response], self[resolution])
            for priority, response, resolution in PRIORITY_FIELDS
        ]

    def clean_closed_dates(self) -> list[str]:
        try:
            return terms.parse_closed_dates(self.cleaned_data["closed_dates"])
        except terms.TermsError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_credits(self) -> list[dict[str, str]]:
        try:
            return terms.parse_credits(self.cleaned_data["credits"])
        except terms.TermsError as exc:
            raise ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        """Read the calendar choice and the hours, and make the slug when none is given."""
        data: dict[str, Any] = super().clean() or {}
        hours = self._business_hours(data)
        if hours is not None:
            self.instance.business_hours = hours
        if not data.get("slug") and "slug" not in self.errors:
            self._default_slug(data)
        slug = data.get("slug")
        if slug and self._slug_taken(slug):
            self.add_error("slug", _("Another plan of the agency has this slug."))
        return data

    def _default_slug(self, data: dict[str, Any]) -> None:
        """Fill in an empty slug: an edited plan keeps its own, a new one gets one from its name."""
        if self.instance.pk:
            data["slug"] = self.instance.slug  # config-as-code knows the plan by its slug
        elif "name" in data:
            data["slug"] = slugify(data["name"])[:100]
            if not data["slug"]:
                self.add_error("slug", _("Give a slug: the name has no letters to make one."))

    def _business_hours(self, data: dict[str, Any]) -> dict[str, str] | None:
        """The stored form of the hours, or None when they cannot be read (errors added)."""
        if data.get("calendar") != BUSINESS_HOURS:
            return {} if data.get("calendar") == AROUND_THE_CLOCK else None
        hours: dict[str, str] = {}
        readable = True
        for day in DAY_NAMES:
            text = (data.get(f"hours_{day}") or "").strip()
            if not text:
                continue
            try:
                hours.update(terms.parse_hours({day: text}))
            except terms.TermsError as exc:
                self.add_error(f"hours_{day}", str(exc))
                readable = False
        if readable and not hours:
            self.add_error("calendar", _("Give the hours of at least one weekday, or choose 24/7."))
            return None
        return hours if readable else None

    def _slug_taken(self, slug: str) -> bool:
        others = CarePlan.objects.filter(organization=self.organization, slug=slug)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        return others.exists()


class ClientPlanForm(forms.ModelForm):
    """A step of a client's plan history: from a day (empty: since always) a plan (or none)
    at a fee. Posting the day of an existing step changes that step; another day adds one."""

    class Meta:
        model = ClientPlan
        fields = ["plan", "monthly_fee", "starts_on"]
        widgets = {"starts_on": DateInput()}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        kwargs.setdefault("instance", ClientPlan(client=client))
        kwargs.setdefault("prefix", "plan")
        super().__init__(*args, **kwargs)
        self.client = client
        self.instance.client = client
        field = self.fields["plan"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = CarePlan.objects.filter(organization_id=client.organization_id)
        field.required = False
        field.empty_label = _("No plan")
        self.fields["starts_on"].label = _("Change the plan from")

    def clean(self) -> dict[str, Any]:
        """Aim at the client's step of that day, if it has one (then it is changed)."""
        cleaned = super().clean() or {}
        existing = ClientPlan.objects.filter(
            client=self.client, starts_on=cleaned.get("starts_on")
        ).first()
        if existing is not None:
            self.instance = existing
        return cleaned

    def save_step(self) -> ClientPlan:
        """Store the step (created, or the one of that day changed)."""
        with transaction.atomic():
            return self.save()
