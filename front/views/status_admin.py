"""The agency's side of status pages: a client's pages, one page with its components and
subscribers, and the public updates of an incident.

Agency members create and change pages, choose components (only the client's own monitors)
and post public updates; a client's users see their own client's pages read-only (a change
they post is refused with 403); anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from incidents import statuspage_mail
from incidents.models import (
    Incident,
    PublicUpdate,
    StatusComponent,
    StatusEmail,
    StatusEmailState,
    StatusPage,
    StatusSubscriber,
    UpdateStatus,
)
from incidents.models.statuspage import normal_host
from incidents.statuspage import incident_monitor_ids
from incidents.statuspage_links import forget_domains
from monitoring.models import Monitor
from sitecare.lib.names import validate_name
from tenancy.models import Client
from tenancy.scoping import Scope, scope_for


class StatusPageForm(forms.ModelForm):
    """A page's texts, address and branding; the model's own rules validate them."""

    class Meta:
        model = StatusPage
        fields = [
            "title",
            "slug",
            "intro",
            "published",
            "custom_domain",
            "accent_color",
            "agency_name",
            "logo_url",
            "allow_subscriptions",
        ]
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 3}),
            "accent_color": forms.TextInput(attrs={"type": "color"}),
            "logo_url": forms.URLInput(attrs={"placeholder": "https://"}),
        }

    def clean_custom_domain(self) -> str:
        return normal_host(self.cleaned_data.get("custom_domain"))

    def clean_accent_color(self) -> str:
        return str(self.cleaned_data.get("accent_color") or "").strip().lower()


class ComponentForm(forms.Form):
    """Add a monitor of the page's client under a public name."""

    monitor = forms.ModelChoiceField(label=gettext_lazy("Monitor"), queryset=Monitor.objects.none())
    name = forms.CharField(
        label=gettext_lazy("Public name"),
        max_length=200,
        validators=[validate_name],
        help_text=gettext_lazy("What visitors read; the monitor's own name is never shown."),
    )
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, required=False)

    def __init__(self, scope: Scope, page: StatusPage, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["monitor"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            scope.visible(Monitor)
            .filter(site__client_id=page.client_id)
            .exclude(status_components__page=page)
            .select_related("site")
            .order_by("site__name", "name")
        )


class ComponentEditForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Public name"), max_length=200, validators=[validate_name]
    )
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0)


class PublicUpdateForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=UpdateStatus.choices)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Public: shown on the status pages and emailed to their subscribers."
        ),
    )


def _save_component(form: ComponentForm, component: StatusComponent) -> bool:
    """Validate with the model's rules (the monitor's client, once per page) and save."""
    try:
        component.full_clean()
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    component.save()
    return True


@login_required
@require_http_methods(["GET", "POST"])
def page_list(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's status pages and, for editors, a new one."""
    scope = scope_for(request.user)
    client = scope.get(Client, pk=client_id)
    form = None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        page = StatusPage(client=client)
        form = StatusPageForm(request.POST, instance=page)
        if form.is_valid():
            form.save()
            forget_domains()
            messages.success(
                request, _("The status page “%(title)s” is saved.") % {"title": page.title}
            )
            return redirect("front:statuspage", page_id=page.pk)
    elif scope.can_edit:
        form = StatusPageForm(initial={"agency_name": scope.organization().name})
    pages = (
        scope.visible(StatusPage)
        .filter(client=client)
        .annotate(
            component_count=Count("components", distinct=True),
            subscriber_count=Count(
                "subscribers", filter=Q(subscribers__confirmed_at__isnull=False), distinct=True
            ),
        )
    )
    return render(
        request, "front/statuspage_list.html", {"client": client, "pages": pages, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def page_detail(request: HttpRequest, page_id: int) -> HttpResponse:
    """One page: its settings, components and subscribers; editors change them here."""
    scope = scope_for(request.user)
    loaded = StatusPage.objects.select_related("client")
    page = scope.get(loaded, pk=page_id)
    page_form = component_form = None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "delete":
            page.delete()
            forget_domains()
            messages.success(
                request, _("The status page “%(title)s” is deleted.") % {"title": page.title}
            )
            return redirect("front:statuspages", client_id=page.client_id)
        if action == "save":
            page_form = StatusPageForm(request.POST, instance=page)
            if page_form.is_valid():
                page_form.save()
                forget_domains()
                messages.success(request, _("The status page is saved."))
                return redirect("front:statuspage", page_id=page.pk)
            page = scope.get(loaded, pk=page_id)  # as stored, not as refused
        elif action == "add_component":
            component_form = ComponentForm(scope, page, request.POST)
            if component_form.is_valid() and _add_component(component_form, page):
                messages.success(request, _("The component is added."))
                return redirect("front:statuspage", page_id=page.pk)
        elif action in ("update_component", "remove_component"):
            _change_component(request, scope, page, action)
            return redirect("front:statuspage", page_id=page.pk)
    return render(
        request, "front/statuspage.html", _detail_context(scope, page, page_form, component_form)
    )


def _add_component(form: ComponentForm, page: StatusPage) -> bool:
    data = form.cleaned_data
    position = data.get("position")
    if position is None:
        position = page.components.count()
    component = StatusComponent(
        page=page, monitor=data["monitor"], name=data["name"], position=position
    )
    return _save_component(form, component)


def _change_component(request: HttpRequest, scope: Scope, page: StatusPage, action: str) -> None:
    """Rename or move a component, or take it off the page."""
    component = scope.get(
        StatusComponent.objects.filter(page=page), pk=request.POST.get("component")
    )
    if action == "remove_component":
        component.delete()
        messages.success(request, _("The component is removed from the page."))
        return
    form = ComponentEditForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            text = " ".join(str(e) for e in errors)
            messages.error(request, f"{form.fields[field].label}: {text}")
        return
    component.name = form.cleaned_data["name"]
    component.position = form.cleaned_data["position"]
    component.save(update_fields=["name", "position"])
    messages.success(request, _("The component is saved."))


def _detail_context(
    scope: Scope,
    page: StatusPage,
    page_form: StatusPageForm | None,
    component_form: ComponentForm | None,
) -> dict[str, Any]:
    if scope.can_edit:
        page_form = page_form or StatusPageForm(instance=page)
        component_form = component_form or ComponentForm(scope, page)
    subscribers = scope.visible(StatusSubscriber).filter(page=page)
    emails = scope.visible(StatusEmail).filter(page=page)
    return {
        "page": page,
        "client": page.client,
        "components": scope.visible(StatusComponent)
        .filter(page=page)
        .select_related("monitor__site")
        .order_by("position", "pk"),
        "page_form": page_form,
        "component_form": component_form,
        "confirmed_count": subscribers.filter(confirmed_at__isnull=False).count(),
        "pending_count": subscribers.filter(confirmed_at__isnull=True).count(),
        "emails_pending": emails.filter(state=StatusEmailState.PENDING).count(),
        "emails_failed": emails.filter(state=StatusEmailState.FAILED).order_by("-pk"),
        "public_path": f"/status/{page.slug}/",
    }


@login_required
@require_http_methods(["GET", "POST"])
def incident_updates(request: HttpRequest, incident_id: int) -> HttpResponse:
    """An incident's public updates and the pages showing them; editors post new ones."""
    scope = scope_for(request.user)
    incident = scope.get(Incident.objects.select_related("monitor__site__client"), pk=incident_id)
    form = PublicUpdateForm() if scope.can_edit else None
    if request.method == "POST":
        if not scope.can_edit:
            raise PermissionDenied
        form = PublicUpdateForm(request.POST)
        if form.is_valid() and _post_update(request, form, incident):
            return redirect("front:incident", incident_id=incident.pk)
    pages = (
        scope.visible(StatusPage)
        .filter(published=True, components__monitor_id__in=incident_monitor_ids(incident))
        .distinct()
    )
    context = {
        "incident": incident,
        "updates": scope.visible(PublicUpdate).filter(incident=incident).select_related("author"),
        "pages": pages,
        "form": form,
    }
    return render(request, "front/statuspage_updates.html", context)


def _post_update(request: HttpRequest, form: PublicUpdateForm, incident: Incident) -> bool:
    try:
        statuspage_mail.post_public_update(
            incident,
            status=form.cleaned_data["status"],
            body=form.cleaned_data["body"],
            author=request.user if request.user.is_authenticated else None,
            now=timezone.now(),
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    if statuspage_mail.pages_showing(incident):
        messages.success(request, _("The public update is posted."))
    else:
        messages.warning(
            request,
            _("The update is saved, but no published status page shows this incident yet."),
        )
    return True
