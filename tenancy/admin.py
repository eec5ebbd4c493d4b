"""Back-office editing of agencies, clients, people and their API tokens.

The admin is for the operator (staff users), not tenants: it is not scoped. Sign-in locks can
be lifted here by deleting their row, and a user who lost the phone with their authenticator
app can have two-factor sign-in turned off (the secret is never shown). API tokens can
only be looked at and deleted here; they are issued on the profile page, where the raw value
is shown once, and their hash is never displayed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenancy import throttle, two_factor
from tenancy.models import (
    ApiToken,
    Client,
    Membership,
    Organization,
    SignInThrottle,
    ThrottleKind,
    TwoFactor,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "language", "require_two_factor", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "slug", "created_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "slug", "organization__name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "client", "language"]
    list_filter = ["role", "organization", "language"]
    list_select_related = ["user", "organization", "client"]
    search_fields = ["user__username", "user__email", "client__name"]
    autocomplete_fields = ["user", "client"]


class MembershipInline(admin.StackedInline):
    """A person's role and client on the user's own page, so one form creates both."""

    model = Membership
    can_delete = False
    extra = 0
    max_num = 1


admin.site.unregister(User)


@admin.register(User)
class SitecareUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "membership", "is_staff", "is_active"]
    list_select_related = ["membership"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at"]
    list_filter = ["created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "hint", "created_at", "last_used_at"]
    readonly_fields = ["name", "user", "hint", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False


@admin.register(SignInThrottle)
class SignInThrottleAdmin(admin.ModelAdmin):
    """Failed sign-ins being counted; deleting a row lifts its lock at once. Search by an
    account name (any name typed, existing or not), a user name or an address."""

    list_display = ["kind", "label", "short_key", "failures", "last_failure_at", "locked_until"]
    list_filter = ["kind"]
    search_fields = ["label"]
    search_help_text = _("An account name exactly as typed, part of a user name, or an address.")
    readonly_fields = ["kind", "label", "key", "failures", "last_failure_at", "locked_until"]

    @admin.display(description=_("key"), ordering="key")
    def short_key(self, row: SignInThrottle) -> str:
        """An address in full; a hash (of a name or a device) by its start."""
        if row.kind in (ThrottleKind.ACCOUNT, ThrottleKind.DEVICE):
            return f"{row.key[:12]}…"
        return row.key

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SignInThrottle], search_term: str
    ) -> tuple[QuerySet[SignInThrottle], bool]:
        """Besides the label: the rows whose key a name or address typed here gives (an
        account's key is a hash of its name, so it cannot be searched for in part)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, may_have_duplicates
        keys = [throttle.account_key(term), throttle.address_key(term)]
        keys.append(throttle.address_key(term, ThrottleKind.TOKEN_ADDRESS))
        exact = Q()
        for key in keys:
            exact |= Q(kind=key.kind, key=key.key)
        return found | queryset.filter(exact), may_have_duplicates

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: SignInThrottle | None = None
    ) -> bool:
        return False


@admin.register(TwoFactor)
class TwoFactorAdmin(admin.ModelAdmin):
    """Who has two-factor sign-in; rows are never deleted (they hold the session epoch)."""

    list_display = ["user", "confirmed_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "confirmed_at"]
    readonly_fields = ["user", "confirmed_at"]
    actions = ["turn_off"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TwoFactor | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TwoFactor | None = None) -> bool:
        return False

    def has_turn_off_permission(self, request: HttpRequest) -> bool:
        """Turning it off is a change (the records are never edited in a form, so the change
        permission means exactly this); viewing the list is not enough."""
        return request.user.has_perm("tenancy.change_twofactor")

    @admin.action(
        description=_("Turn off two-factor sign-in (the user can set it up again)"),
        permissions=["turn_off"],
    )
    def turn_off(self, request: HttpRequest, queryset: QuerySet[TwoFactor]) -> None:
        """Turn it off for the chosen users; a superuser's only by a superuser."""
        records = list(queryset.select_related("user"))
        if not request.user.is_superuser:
            kept = [record.user.get_username() for record in records if record.user.is_superuser]
            records = [record for record in records if not record.user.is_superuser]
            if kept:
                self.message_user(
                    request,
                    _(
                        "Only a superuser may turn off two-factor sign-in of a superuser; "
                        "left as it is for: %(names)s."
                    )
                    % {"names": ", ".join(kept)},
                    messages.WARNING,
                )
        for record in records:
            two_factor.disable(record.user)
        if not records:
            return
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in is off for %(count)d user.",
                "Two-factor sign-in is off for %(count)d users.",
                len(records),
            )
            % {"count": len(records)},
            messages.SUCCESS,
        )
