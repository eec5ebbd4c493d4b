"""Back-office editing of monitors; results and the state-change log are read-only.

The engine owns a monitor's state columns: the admin shows them but never writes them, and
saves an edited monitor with ``update_fields`` so a concurrent flip is not overwritten with the
stale values the form was loaded with. A monitor's definition goes through the same validator
as config-as-code and the API (``monitoring.spec.parse_monitor``), network policy included.
Secret options (HTTP credentials, header values) are shown masked as ``***``; a mask left as it
is keeps the stored secret. "Counts for the SLA" offers "by kind" (the default of a new monitor),
so the admin takes the same per-kind default as config as code and the API. Unticking or
ticking "enabled" pauses or resumes through ``monitoring.pauses``, recorded with the admin user
as the actor. Probe engine runs and pauses are read-only.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from monitoring.logic import STATE_FIELDS
from monitoring.models import CheckResult, EngineRun, Monitor, PauseEvent, StateChange, Tag
from monitoring.pauses import Actor, record_created, set_enabled
from monitoring.spec import MODEL_FIELD_FOR_KEY, mask_secrets, parse_monitor, unmask_secrets
from sitecare.lib.validation_messages import error_message

# Definition keys (as in YAML and the API) → the form field that shows their errors.
FIELD_FOR_KEY = MODEL_FIELD_FOR_KEY
# Fields a view-only page shows through a masking method instead.
MASKED = {"config": "masked_options"}
EDITABLE_FIELDS = [
    "site",
    "name",
    "kind",
    "url",
    "config",
    "interval_s",
    "timeout_s",
    "confirm_down",
    "confirm_up",
    "recheck_s",
    "enabled",
    "critical",
]
# "Counts for the SLA" as the form offers it: unset means the kind's default.
CRITICAL_CHOICES = [
    ("unknown", _("By kind (certificates, domains, SEO and content: no; the rest: yes)")),
    ("true", _("Yes")),
    ("false", _("No")),
]


def _masked_name(field: Any) -> Any:
    return MASKED.get(field, field) if isinstance(field, str) else field


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs written only by the system: viewable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CriticalSelect(forms.NullBooleanSelect):
    """Yes, no, or the kind's default (sent as "unknown", read as None)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = CRITICAL_CHOICES

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        # Left out means "by kind", which clean() resolves: never the column's default.
        return False


class MonitorAdminForm(forms.ModelForm):
    # Three ways, not a checkbox: a new monitor takes its kind's default unless told otherwise.
    critical = forms.NullBooleanField(
        label=_("counts for the SLA"),
        required=False,
        widget=CriticalSelect,
        help_text=Monitor._meta.get_field("critical").help_text,
    )

    class Meta:
        model = Monitor
        fields = EDITABLE_FIELDS
        help_texts = {
            "config": _("Secret values are shown as *** (leave them so to keep the stored ones).")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["config"] = mask_secrets(self.instance.kind, self.instance.config)
        else:
            self.initial["critical"] = None

    def _options(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """The submitted options with the masks left in them put back to the stored secrets."""
        options: dict[str, Any] = cleaned.get("config") or {}
        kind = self.instance.kind
        if self.instance.pk is None or cleaned.get("kind") != kind:
            return options
        return unmask_secrets(kind, options, self.instance.config)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        site = cleaned.get("site")
        if site is None or self.errors:
            return cleaned
        data = {key: cleaned.get(field) for key, field in FIELD_FOR_KEY.items()}
        data.update(self._options(cleaned))
        try:
            definition = parse_monitor(data, site.client.organization.allowed_networks())
        except ValidationError as exc:
            self._report(exc)
            return cleaned
        existing = self.instance if self.instance.pk is not None else None
        cleaned.update(definition.model_fields_for(existing))
        return cleaned

    def _report(self, exc: ValidationError) -> None:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            field = FIELD_FOR_KEY.get(key, "config" if key else None)
            # The one wording of the web forms, the API and config-as-code.
            text = error_message(error)
            message = text if field != "config" else f"{key}: {text}"
            self.add_error(field, message)


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    form = MonitorAdminForm
    list_display = [
        "name",
        "site",
        "kind",
        "state",
        "enabled",
        "critical",
        "last_checked_at",
        "last_response_ms",
    ]
    list_filter = [
        "state",
        "kind",
        "enabled",
        "critical",
        "site__client__organization",
        "site__client",
    ]
    list_select_related = ["site"]
    search_fields = ["name", "url", "site__name", "site__client__name"]
    autocomplete_fields = ["site"]
    readonly_fields = [*STATE_FIELDS, "first_ping_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["site", "name", "kind", "url", "config", "enabled", "critical"]}),
        (
            _("Schedule"),
            {"fields": ["interval_s", "timeout_s", "confirm_down", "confirm_up", "recheck_s"]},
        ),
        (_("State (kept by the probe engine)"), {"fields": tuple(readonly_fields)}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """A view-only page shows fields as stored: it shows the options masked instead."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (name, {**spec, "fields": [_masked_name(f) for f in spec["fields"]]})
            for name, spec in fieldsets
        ]

    @admin.display(description=_("options"))
    def masked_options(self, obj: Monitor) -> str:
        return json.dumps(mask_secrets(obj.kind, obj.config or {}), ensure_ascii=False)

    def save_model(self, request: HttpRequest, obj: Monitor, form: Any, change: bool) -> None:
        actor = Actor.admin(request.user)
        with transaction.atomic():
            if not change:
                obj.save()
                record_created(obj, actor)
                return
            # ``enabled`` goes through set_enabled, which records a pause or resume.
            fields = [f for f in EDITABLE_FIELDS if f != "enabled"]
            obj.save(update_fields=[*fields, "updated_at"])
            set_enabled(obj, obj.enabled, actor)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """The agencies' tags; agencies manage theirs on the tags page (``front:tags``)."""

    list_display = ["name", "colour", "organization"]
    list_filter = ["organization", "colour"]
    search_fields = ["name"]


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyAdmin):
    list_display = [
        "monitor",
        "checked_at",
        "ok",
        "status_code",
        "response_ms",
        "failure_class",
    ]
    list_filter = ["ok", "failure_class", "monitor__site__client"]
    list_select_related = ["monitor__site"]
    search_fields = ["monitor__name", "monitor__site__name", "message"]
    date_hierarchy = "checked_at"
    # The table is large: skip the full COUNT(*) that the changelist would do per page.
    show_full_result_count = False


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyAdmin):
    list_display = ["monitor", "at", "from_state", "to_state", "failure_class"]
    list_filter = ["to_state", "failure_class", "monitor__site__client"]
    list_select_related = ["monitor__site"]
    search_fields = ["monitor__name", "monitor__site__name"]
    date_hierarchy = "at"


@admin.register(PauseEvent)
class PauseEventAdmin(ReadOnlyAdmin):
    list_display = ["monitor", "at", "action", "via", "actor"]
    list_filter = ["action", "via", "monitor__site__client"]
    list_select_related = ["monitor__site"]
    search_fields = ["monitor__name", "monitor__site__name", "actor"]
    date_hierarchy = "at"


@admin.register(EngineRun)
class EngineRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "last_seen_at", "stopped_at", "loop", "host", "pid"]
    list_filter = ["loop", "host"]
    date_hierarchy = "started_at"
