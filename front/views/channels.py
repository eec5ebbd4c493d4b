"""Alert channels: the list (failing ones first and plainly marked), one channel's page.

Agency members add, change, delete and test channels; a client's users see their own client's
channels read-only (a change they post is refused with 403); anyone else gets 404. The URL is
write-only: pages show it redacted, and leaving it empty when editing keeps the stored one.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from incidents import channel_health
from incidents.channels import send_test, validate_channel_url
from incidents.models import Channel, Notification
from incidents.templating import PLACEHOLDERS
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope, scope_for

RECENT_NOTIFICATIONS = 20


class WriteOnlyInput(forms.TextInput):
    """A text box that never renders a value, not even the one just submitted (a secret)."""

    def format_value(self, value: Any) -> str | None:
        return None


class ChannelForm(forms.ModelForm):
    url = forms.CharField(
        label=gettext_lazy("Apprise URL"),
        required=False,
        strip=True,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "placeholder": "json://…"}),
        help_text=gettext_lazy(
            "An Apprise address of a network service: mailto://, slack://, workflows://, "
            "discord://, tgram://, ntfy://, json://… Write-only: it is never shown again; "
            "leave empty to keep it."
        ),
    )

    class Meta:
        model = Channel
        fields = [
            "name",
            "url",
            "client",
            "site",
            "min_severity",
            "enabled",
            "title_template",
            "body_template",
        ]
        widgets = {"body_template": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, scope: Scope, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client_field = self.fields["client"]
        site_field = self.fields["site"]
        assert isinstance(client_field, forms.ModelChoiceField)
        assert isinstance(site_field, forms.ModelChoiceField)
        client_field.queryset = scope.visible(Client).order_by("name")
        client_field.empty_label = _("All clients of the agency")
        site_field.queryset = scope.visible(Site).select_related("client").order_by("name")
        site_field.empty_label = _("All sites")
        self.fields["url"].required = self.instance.pk is None

    def clean_name(self) -> str:
        # The agency is not a form field, so the model's name-per-agency rule is checked here.
        name: str = self.cleaned_data.get("name") or ""
        taken = Channel.objects.filter(organization_id=self.instance.organization_id, name=name)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The agency already has a channel with this name."))
        return name

    def clean_url(self) -> str:
        url: str = self.cleaned_data.get("url") or ""
        if not url:
            return self.instance.url if self.instance.pk else url
        try:
            return validate_channel_url(url)
        except ValueError as exc:  # its message never repeats the URL, a secret
            raise forms.ValidationError(str(exc)) from exc


def _placeholders() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


@login_required
@require_http_methods(["GET", "POST"])
def channel_list(request: HttpRequest) -> HttpResponse:
    """The channels the user may see and, for agency members, the form for a new one."""
    scope = scope_for(request.user)
    form = None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        channel = Channel(organization=scope.organization())
        form = ChannelForm(scope, request.POST, instance=channel)
        if form.is_valid():
            form.save()
            saved = _("The channel “%(name)s” is saved.") % {"name": channel.name}
            messages.success(request, saved)
            return redirect("front:channel", channel_id=channel.pk)
    elif scope.can_edit:
        form = ChannelForm(scope)
    channels = (
        scope.visible(Channel)
        .filter(user__isnull=True)  # personal channels are managed on their owner's profile
        .select_related("client", "site")
        # Failing channels first: a broken alert path is the thing to notice on this page.
        .annotate(
            failing_first=Case(
                When(consecutive_failures__gt=0, then=Value(0)),
                When(failing_since__isnull=False, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("failing_first", "name")
    )
    context = {"channels": channels, "form": form, "placeholders": _placeholders()}
    return render(request, "front/channels.html", context)


def _act(request: HttpRequest, scope: Scope, channel: Channel) -> HttpResponse | ChannelForm:
    """Carry out a posted action: test, delete or save; a form with errors when refused."""
    action = request.POST.get("action")
    if action == "test":
        outcome = send_test(channel, by=request.user.get_username())
        if outcome.delivered:
            messages.success(request, _("The test message was delivered."))
        else:
            failed = _("The test message was not delivered: %(error)s") % {"error": outcome.error}
            messages.error(request, failed)
        return redirect("front:channel", channel_id=channel.pk)
    if action == "delete":
        channel.delete()
        messages.success(request, _("The channel “%(name)s” is deleted.") % {"name": channel.name})
        return redirect("front:channels")
    form = ChannelForm(scope, request.POST, instance=channel)
    if form.is_valid():
        form.save()
        messages.success(request, _("The channel “%(name)s” is saved.") % {"name": channel.name})
        return redirect("front:channel", channel_id=channel.pk)
    return form


@login_required
@require_http_methods(["GET", "POST"])
def channel_detail(request: HttpRequest, channel_id: int) -> HttpResponse:
    """One channel: its health, owner notices, recent notifications; editors change or test it."""
    scope = scope_for(request.user)
    loaded = Channel.objects.filter(user__isnull=True).select_related(
        "organization", "client", "site"
    )
    channel = scope.get(loaded, pk=channel_id)
    form = None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        acted = _act(request, scope, channel)
        if isinstance(acted, HttpResponse):
            return acted
        form = acted
        channel = scope.get(loaded, pk=channel_id)  # as stored, not as refused
    elif scope.can_edit:
        form = ChannelForm(scope, instance=channel)
    recent = (
        scope.visible(Notification)
        .filter(channel=channel)
        .select_related("incident__monitor__site")
        .order_by("-created_at", "-pk")[:RECENT_NOTIFICATIONS]
    )
    context = {
        "channel": channel,
        "form": form,
        "notifications": recent,
        "notices": channel_health.owner_notices(channel) if scope.is_agency else [],
        "placeholders": _placeholders(),
    }
    return render(request, "front/channel.html", context)
