"""Back-office editing of the clients' websites."""

from __future__ import annotations

from django.contrib import admin

from sites.models import Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "url", "time_zone", "created_at"]
    list_filter = ["client__organization", "client"]
    list_select_related = ["client"]
    search_fields = ["name", "slug", "url", "client__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["client"]
