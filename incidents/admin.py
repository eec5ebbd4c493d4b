"""Back-office view of incidents and the outbox, and editing of alert channels.

A channel's Apprise URL holds tokens, so the admin treats it as write-only: the form never
shows the stored value (leave the field empty to keep it), and lists show ``redacted_url``.
Incidents, their events and notifications change only through the domain functions and the
alert sender, so they are read-only here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from incidents.channels import validate_channel_url
from incidents.models import (
    Channel,
    EscalationPolicy,
    EscalationRun,
    EscalationStep,
    HeldOutage,
    Incident,
    IncidentEvent,
    MaintenanceWindow,
    Notification,
    OnCallOverride,
    OnCallSchedule,
    PolicyAssignment,
    Rotation,
    RotationParticipant,
)
from monitoring.admin import ReadOnlyAdmin


class WriteOnlyInput(forms.TextInput):
    """A text box that never renders a value, not even the one just submitted."""

    def format_value(self, value: Any) -> str | None:
        return None


class ChannelAdminForm(forms.ModelForm):
    url = forms.CharField(
        label=_("Apprise URL"),
        required=False,
        strip=True,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "size": 80}),
        help_text=_("Write-only: the stored address is never shown. Leave empty to keep it."),
    )

    class Meta:
        model = Channel
        fields = ["organization", "client", "name", "url", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].required = self.instance.pk is None

    def clean_url(self) -> str:
        url: str = self.cleaned_data.get("url") or ""
        if not url:
            return self.instance.url if self.instance.pk else url
        try:
            return validate_channel_url(url)
        except ValueError as exc:  # its message never repeats the URL, a secret
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        organization, client = cleaned.get("organization"), cleaned.get("client")
        if organization and client and client.organization_id != organization.pk:
            self.add_error("client", _("The client belongs to another agency."))
        return cleaned


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm

    class Media:
        css = {"all": ["css/sitecare-admin.css"]}

    list_display = [
        "name",
        "organization",
        "client",
        "enabled",
        "health",
        "redacted_url",
        "last_success_at",
        "last_error_at",
    ]
    list_filter = ["enabled", "organization", "client"]
    list_select_related = ["organization", "client"]
    search_fields = ["name", "client__name"]
    readonly_fields = [
        "redacted_url",
        "consecutive_failures",
        "last_error",
        "last_error_at",
        "last_success_at",
        "created_at",
    ]
    fields = [
        "organization",
        "client",
        "name",
        "redacted_url",
        "url",
        "enabled",
        "consecutive_failures",
        "last_error",
        "last_error_at",
        "last_success_at",
        "created_at",
    ]

    @admin.display(description=_("address"))
    def redacted_url(self, obj: Channel) -> str:
        return obj.redacted_url if obj.pk else "—"

    @admin.display(description=_("health"))
    def health(self, obj: Channel) -> str:
        if obj.is_failing:
            # A class, not a style attribute: the Content-Security-Policy refuses inline style.
            return format_html('<strong class="sitecare-failing">⚠ {}</strong>', _("Failing"))
        return str(_("OK"))


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ["at", "kind", "actor", "message"]
    readonly_fields = ["at", "kind", "actor", "message"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "monitor",
        "state",
        "opened_at",
        "resolved_at",
        "duration",
        "failure_class",
    ]
    list_filter = ["state", "failure_class", "monitor__site__client__organization"]
    list_select_related = ["monitor__site"]
    search_fields = ["monitor__name", "monitor__site__name", "message"]
    date_hierarchy = "opened_at"
    inlines = [IncidentEventInline]

    @admin.display(description=_("duration"))
    def duration(self, obj: Incident) -> str:
        seconds = int(obj.duration_seconds)
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "dedup_key",
        "channel",
        "event",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event", "channel"]
    list_select_related = ["channel"]
    search_fields = ["dedup_key", "title", "channel__name"]
    date_hierarchy = "created_at"


class OnCallOverrideInline(admin.TabularInline):
    model = OnCallOverride
    fields = ["user", "starts_at", "ends_at", "reason"]
    extra = 0


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "time_zone"]
    list_filter = ["organization"]
    search_fields = ["name"]
    inlines = [OnCallOverrideInline]


class RotationParticipantInline(admin.TabularInline):
    model = RotationParticipant
    fields = ["position", "user"]
    extra = 0


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    list_display = ["schedule", "handoff_weekday", "handoff_time", "length_weeks", "starts_on"]
    list_select_related = ["schedule"]
    inlines = [RotationParticipantInline]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    """Windows are validated by the model (the site's client, the rule) as in the web UI."""

    list_display = ["title", "client", "site", "start_date", "start_time", "duration_minutes"]
    list_filter = ["client__organization", "client"]
    list_select_related = ["client", "site"]
    search_fields = ["title", "client__name", "site__name"]
    fields = [
        "client",
        "site",
        "title",
        "description",
        "start_date",
        "start_time",
        "duration_minutes",
        "rrule",
        "created_by",
    ]
    readonly_fields = ["created_by"]

    def save_model(
        self, request: HttpRequest, obj: MaintenanceWindow, form: Any, change: bool
    ) -> None:
        if obj.created_by_id is None and request.user.is_authenticated:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)


@admin.register(HeldOutage)
class HeldOutageAdmin(ReadOnlyAdmin):
    list_display = ["monitor", "window", "held_at", "released_at", "incident"]
    list_filter = [("released_at", admin.EmptyFieldListFilter)]
    list_select_related = ["monitor__site", "window", "incident"]
    date_hierarchy = "held_at"


class EscalationStepInline(admin.StackedInline):
    model = EscalationStep
    fields = ["position", "wait_minutes", "channels", "users", "schedules"]
    filter_horizontal = ["channels", "users", "schedules"]
    extra = 0


class PolicyAssignmentInline(admin.TabularInline):
    model = PolicyAssignment
    fields = ["client", "site"]
    extra = 0


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    """Back office; the web UI and API check steps as a whole (``save_policy``), and at run
    time a step never pages a personal channel directly nor another client's channel."""

    list_display = ["name", "organization", "is_default", "repeat"]
    list_filter = ["organization", "is_default"]
    search_fields = ["name"]
    inlines = [EscalationStepInline, PolicyAssignmentInline]


@admin.register(EscalationRun)
class EscalationRunAdmin(ReadOnlyAdmin):
    list_display = ["incident", "policy_name", "step_index", "round", "next_at", "stop_reason"]
    list_filter = [("stopped_at", admin.EmptyFieldListFilter), "stop_reason"]
    list_select_related = ["incident__monitor"]
    date_hierarchy = "started_at"
