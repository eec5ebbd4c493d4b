"""On-call schedules: who is on call now, the next two weeks of shifts, editing, overrides,
and each person's calendar feed.

Schedules are the agency's own business: owners and engineers see and edit them, client users
get 404 for every page (the scoping helper shows them no schedule at all). The calendar feed
is fetched by calendar apps without a session, so its address carries a signed token instead.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from front.views.common import agency_scope, posted_id
from front.widgets import DateInput, DateTimeLocalInput, TimeInput
from incidents.models import OnCallOverride, OnCallSchedule, Weekday
from incidents.models.oncall import MAX_ROTATION_WEEKS, agency_people
from incidents.oncall import on_call_now, shifts, with_timetable
from incidents.oncall_edit import ROTATION, RotationSpec, rotation_spec, save_schedule
from incidents.oncall_feed import feed_calendar, feed_token, feed_user
from sitecare.lib.names import validate_name
from tenancy.scoping import Scope

UPCOMING = timedelta(days=14)


class ScheduleForm(forms.Form):
    """A schedule with its rotation; the rules themselves are checked by ``save_schedule``."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, validators=[validate_name])
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone"),
        max_length=64,
        help_text=gettext_lazy("Hand-offs follow this zone's clock, e.g. Europe/Warsaw."),
    )
    participants = forms.CharField(
        label=gettext_lazy("People, in turn order"), widget=forms.Textarea(attrs={"rows": 4})
    )
    handoff_weekday = forms.TypedChoiceField(
        label=gettext_lazy("Hand-off day"), choices=Weekday.choices, coerce=int
    )
    handoff_time = forms.TimeField(label=gettext_lazy("Hand-off time"), widget=TimeInput())
    length_weeks = forms.IntegerField(
        label=gettext_lazy("Weeks per turn"), min_value=1, max_value=MAX_ROTATION_WEEKS
    )
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), widget=DateInput())

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {p.get_username(): p for p in people}
        available = ", ".join(self.people) or "—"
        self.fields["participants"].help_text = _(
            "One user name per line; the first takes the first turn. Available: %(names)s."
        ) % {"names": available}

    def clean_participants(self) -> list[int]:
        names = [n for n in re.split(r"[\s,]+", self.cleaned_data["participants"]) if n]
        unknown = [n for n in names if n not in self.people]
        if unknown:
            raise ValidationError(
                _("No owner or engineer of the agency is called: %(names)s.")
                % {"names": ", ".join(unknown)}
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError(_("Listed twice: %(names)s.") % {"names": ", ".join(twice)})
        return [self.people[n].pk for n in names]

    def spec(self) -> RotationSpec:
        data = self.cleaned_data
        return RotationSpec(
            participants=data["participants"],
            handoff_weekday=data["handoff_weekday"],
            handoff_time=data["handoff_time"],
            length_weeks=data["length_weeks"],
            starts_on=data["starts_on"],
        )

    def add_domain_errors(self, exc: ValidationError) -> None:
        """Show the domain's refusals on the fields they name (``rotation.x`` is field x)."""
        for key, found in exc.message_dict.items():
            field = key.removeprefix(ROTATION)
            self.add_error(field if field in self.fields else None, found)


class OverrideForm(forms.ModelForm):
    """Someone covers from one local time to another (in the schedule's zone)."""

    class Meta:
        model = OnCallOverride
        fields = ["user", "starts_at", "ends_at", "reason"]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
        }

    def __init__(self, *args: Any, schedule: OnCallSchedule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.schedule = schedule
        user_field: Any = self.fields["user"]
        user_field.queryset = agency_people(schedule.organization_id)
        user_field.label_from_instance = lambda user: user.get_username()


def _schedule(scope: Scope, schedule_id: int) -> OnCallSchedule:
    return scope.get(with_timetable(scope.visible(OnCallSchedule)), pk=schedule_id)


def feed_url(user: Any) -> str:
    path = reverse("front:oncall_ical", kwargs={"token": feed_token(user)})
    return f"{settings.SITECARE_BASE_URL}{path}"


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    now = timezone.now()
    schedules = with_timetable(scope.visible(OnCallSchedule))
    rows = [(schedule, on_call_now(schedule, now)) for schedule in schedules]
    context = {"rows": rows, "feed_url": feed_url(request.user)}
    return render(request, "front/oncall.html", context)


def _schedule_page(
    request: HttpRequest, schedule: OnCallSchedule, form: OverrideForm | None = None
) -> HttpResponse:
    now = timezone.now()
    context = {
        "schedule": schedule,
        "rotation": schedule.rotations.first(),
        "members": [m.user for r in schedule.rotations.all() for m in r.members.all()],
        "now": on_call_now(schedule, now),
        "shifts": shifts(schedule, now, now + UPCOMING),
        "overrides": [o for o in schedule.overrides.all() if o.ends_at > now],
        "form": form or OverrideForm(schedule=schedule),
    }
    return render(request, "front/oncall_schedule.html", context)


@login_required
def schedule_detail(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """The schedule's next two weeks; a POST adds an override (times in the schedule's zone)."""
    schedule = _schedule(agency_scope(request), schedule_id)
    if request.method != "POST":
        return _schedule_page(request, schedule)
    form = OverrideForm(request.POST, schedule=schedule)
    with timezone.override(schedule.time_zone):  # the form's times are the schedule's local
        valid = form.is_valid()
    if not valid:
        return _schedule_page(request, schedule, form)
    form.save()
    messages.success(request, _("The override is saved."))
    return redirect("front:oncall_schedule", schedule_id=schedule.pk)


def _form_page(
    request: HttpRequest, scope: Scope, schedule: OnCallSchedule, initial: dict[str, Any]
) -> HttpResponse:
    """Show or take the schedule form; on success save through the domain and go to it."""
    people = agency_people(scope.organization().pk)
    if request.method != "POST":
        form = ScheduleForm(initial=initial, people=people)
        return render(request, "front/oncall_form.html", {"form": form, "schedule": schedule})
    form = ScheduleForm(request.POST, people=people)
    if form.is_valid():
        schedule.name = form.cleaned_data["name"]
        schedule.time_zone = form.cleaned_data["time_zone"]
        try:
            save_schedule(schedule, form.spec())
        except ValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("The schedule is saved."))
            return redirect("front:oncall_schedule", schedule_id=schedule.pk)
    return render(request, "front/oncall_form.html", {"form": form, "schedule": schedule})


@login_required
def schedule_new(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    schedule = OnCallSchedule(organization=scope.organization())
    initial = {
        "time_zone": schedule.time_zone,
        "participants": request.user.get_username(),
        "handoff_weekday": Weekday.MONDAY,
        "handoff_time": "09:00",
        "length_weeks": 1,
        "starts_on": timezone.localdate(),
    }
    return _form_page(request, scope, schedule, initial)


@login_required
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    scope = agency_scope(request)
    schedule = _schedule(scope, schedule_id)
    initial: dict[str, Any] = {"name": schedule.name, "time_zone": schedule.time_zone}
    spec = rotation_spec(schedule)
    if spec is not None:
        names = dict(User.objects.filter(pk__in=spec.participants).values_list("pk", "username"))
        initial.update(
            participants="\n".join(names[p] for p in spec.participants),
            handoff_weekday=spec.handoff_weekday,
            handoff_time=spec.handoff_time,
            length_weeks=spec.length_weeks,
            starts_on=spec.starts_on,
        )
    return _form_page(request, scope, schedule, initial)


@login_required
@require_POST
def schedule_delete(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    schedule = scope.get(OnCallSchedule, pk=posted_id(request, "schedule"))
    schedule.delete()
    messages.success(request, _("The schedule “%(name)s” is deleted.") % {"name": schedule.name})
    return redirect("front:oncall")


@login_required
@require_POST
def override_delete(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    override = scope.get(OnCallOverride, pk=posted_id(request, "override"))
    override.delete()
    messages.success(request, _("The override is deleted."))
    return redirect("front:oncall_schedule", schedule_id=override.schedule_id)


def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's shifts as text/calendar; a forged or stale token is 404 like any bad URL."""
    user = feed_user(token)
    if user is None:
        raise Http404("not found")
    response = HttpResponse(
        feed_calendar(user, timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
