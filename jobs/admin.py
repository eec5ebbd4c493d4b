"""Jobs in the back office: read-only, failed-for-good ones easy to find and to queue again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.db.models.functions import Now
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from jobs.models import Job, JobState


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "function",
        "subject",
        "queue",
        "state",
        "attempts",
        "max_attempts",
        "run_after",
        "finished_at",
        "short_error",
    ]
    list_filter = ["state", "queue", "function"]
    search_fields = ["subject", "dedupe_key", "last_error"]
    date_hierarchy = "created_at"
    ordering = ["-pk"]
    actions = ["queue_again"]

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> list[str]:
        return [field.name for field in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("last error"))
    def short_error(self, job: Job) -> str:
        return job.last_error[:120]

    @admin.action(description=_("Queue the selected failed jobs again"))
    def queue_again(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        """Give failed-for-good jobs a fresh set of attempts (after the cause is fixed)."""
        count = queryset.filter(state=JobState.FAILED).update(
            state=JobState.QUEUED, attempts=0, run_after=Now(), finished_at=None
        )
        self.message_user(
            request,
            ngettext("%(count)d job queued again.", "%(count)d jobs queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
