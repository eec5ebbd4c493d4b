"""A client's maintenance windows: the list with their next occurrences, one window's page.

Agency members create, edit and delete windows; a client's users see their own client's
windows read-only (a change they post is refused with 403); anyone else gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from front.widgets import DateInput, TimeInput
from incidents import maintenance
from incidents.maintenance import Occurrence, Repeat
from incidents.models import MaintenanceWindow
from incidents.models.maintenance import MAX_DURATION_MINUTES
from sitecare.lib.names import validate_name
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope, scope_for

NEXT_IN_LIST = 3
NEXT_ON_PAGE = 10


class WindowForm(forms.Form):
    """A window as people think of it: when, how long, how it repeats (a preset or a rule)."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, validators=[validate_name])
    site = forms.ModelChoiceField(
        label=gettext_lazy("Site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=gettext_lazy("All sites of the client"),
    )
    start_date = forms.DateField(label=gettext_lazy("First day"), widget=DateInput())
    start_time = forms.TimeField(
        label=gettext_lazy("Start time"),
        widget=TimeInput(),
        help_text=gettext_lazy(
            "Local time of the site (for all sites: of each site), summer time included."
        ),
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=1, max_value=MAX_DURATION_MINUTES
    )
    repeat = forms.ChoiceField(
        label=gettext_lazy("Repeats"), choices=Repeat.choices, initial=Repeat.ONCE
    )
    rrule = forms.CharField(
        label=gettext_lazy("Custom rule (RRULE)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "FREQ=WEEKLY;BYDAY=SA,SU"}),
        help_text=gettext_lazy(
            "Used with “Custom rule”: an RFC 5545 RRULE, read on the site's local clock."
        ),
    )
    description = forms.CharField(
        label=gettext_lazy("Public description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown to the client, e.g. on the status page."),
    )

    def __init__(self, scope: Scope, client: Client, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ModelChoiceField)
        site_field.queryset = scope.visible(Site).filter(client=client).order_by("name")

    @classmethod
    def initial_for(cls, window: MaintenanceWindow) -> dict[str, Any]:
        repeat = maintenance.repeat_of(window)
        return {
            "title": window.title,
            "site": window.site_id,
            "start_date": window.start_date,
            "start_time": window.start_time,
            "duration_minutes": window.duration_minutes,
            "repeat": repeat,
            "rrule": window.rrule if repeat == Repeat.CUSTOM else "",
            "description": window.description,
        }

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("repeat") == Repeat.CUSTOM and not data.get("rrule"):
            self.add_error("rrule", _("Write the rule, or choose another way to repeat."))
        return data

    def save_into(self, window: MaintenanceWindow) -> bool:
        """Validate the values with the model's own rules and save; False, with errors, if not."""
        data = self.cleaned_data
        for name in ("title", "site", "start_date", "start_time", "duration_minutes"):
            setattr(window, name, data[name])
        window.description = data["description"]
        window.rrule = maintenance.rule_for(data["repeat"], window.local_start, data["rrule"])
        try:
            window.full_clean()
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return False
        window.save()
        return True


@dataclass(frozen=True)
class WindowRow:
    window: MaintenanceWindow
    repeats: str
    next: list[Occurrence]


def _rows(
    windows: list[MaintenanceWindow], zones: list[str], count: int, now: datetime
) -> list[WindowRow]:
    """Each window with its next occurrences; the soonest first, those that are over last."""
    rows = [
        WindowRow(
            window,
            maintenance.describe_repeat(window),
            maintenance.upcoming(window, now, count, zones=zones),
        )
        for window in windows
    ]
    return sorted(rows, key=lambda r: (not r.next, r.next[0].start if r.next else now))


def _site_filter(scope: Scope, client: Client, raw: str | None) -> Site | None:
    if not raw:
        return None
    return scope.get(Site.objects.filter(client=client), pk=raw)


@login_required
@require_http_methods(["GET", "POST"])
def window_list(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's windows (or those of one site, ``?site=``) and, for editors, a new one."""
    scope = scope_for(request.user)
    client = scope.get(Client, pk=client_id)
    site = _site_filter(scope, client, request.GET.get("site"))
    form = None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        form = WindowForm(scope, client, request.POST)
        window = MaintenanceWindow(client=client, created_by_id=request.user.pk)
        if form.is_valid() and form.save_into(window):
            messages.success(
                request, _("The maintenance window “%(title)s” is saved.") % {"title": window.title}
            )
            return redirect("front:maintenance_window", window_id=window.pk)
    elif scope.can_edit:
        form = WindowForm(scope, client, initial={"site": site.pk if site else None})
    windows = scope.visible(MaintenanceWindow).filter(client=client).select_related("site")
    if site is not None:
        windows = windows.filter(Q(site__isnull=True) | Q(site=site))
    now = timezone.now()
    context = {
        "client": client,
        "site": site,
        "rows": _rows(list(windows), maintenance.client_zones(client.pk), NEXT_IN_LIST, now),
        "form": form,
        "now": now,
    }
    return render(request, "front/maintenance_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def window_detail(request: HttpRequest, window_id: int) -> HttpResponse:
    """One window: its next occurrences; for editors, the form to change or delete it."""
    scope = scope_for(request.user)
    loaded = MaintenanceWindow.objects.select_related("client", "site")
    window = scope.get(loaded, pk=window_id)
    form = None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        if request.POST.get("action") == "delete":
            window.delete()
            messages.success(
                request,
                _("The maintenance window “%(title)s” is deleted.") % {"title": window.title},
            )
            return redirect("front:maintenance", client_id=window.client_id)
        form = WindowForm(scope, window.client, request.POST)
        if form.is_valid() and form.save_into(window):
            messages.success(
                request, _("The maintenance window “%(title)s” is saved.") % {"title": window.title}
            )
            return redirect("front:maintenance_window", window_id=window.pk)
        window = scope.get(loaded, pk=window_id)  # as stored, not as refused
    elif scope.can_edit:
        form = WindowForm(scope, window.client, initial=WindowForm.initial_for(window))
    zones = maintenance.zones_of(window)
    now = timezone.now()
    context = {
        "window": window,
        "row": _rows([window], zones, NEXT_ON_PAGE, now)[0],
        "zones": zones,
        "form": form,
        "now": now,
    }
    return render(request, "front/maintenance_window.html", context)
