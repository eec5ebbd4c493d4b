"""The Django admin for care plans (the UI and the API are the usual ways to edit them)."""

from __future__ import annotations

from django.contrib import admin

from sla.models import BudgetAlert, CarePlan, ClientPlan


@admin.register(CarePlan)
class CarePlanAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "availability_target", "window", "monthly_fee")
    list_filter = ("organization", "window")
    search_fields = ("name", "slug")


@admin.register(ClientPlan)
class ClientPlanAdmin(admin.ModelAdmin):
    list_display = ("client", "plan", "monthly_fee", "starts_on")
    list_select_related = ("client", "plan")


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    list_display = ("client", "window_start", "level", "consumed_percent", "raised_at")
    readonly_fields = ("client", "window_start", "level", "consumed_percent", "raised_at")
