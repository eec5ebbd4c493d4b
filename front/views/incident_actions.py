"""One incident's page and what people do there: acknowledge, resolve, notes, details; and the
one-click acknowledgement link from alerts.

Owners and engineers act; a client's users read their own incidents (a change they post is
refused with 403); anyone else gets 404. The actions post the incident's id: they have no
page of their own, and a refused form is shown again on the incident's page.

The ack link needs no sign-in: its GET only shows what would be acknowledged and a button
(mail scanners fetch links), the POST acknowledges. A link that does not verify is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from front.pause_words import pause_line
from incidents.ack import AckLink, verify
from incidents.actions import (
    NOTE_MAX_CHARS,
    POSTMORTEM_MAX_CHARS,
    ROOT_CAUSE_MAX_CHARS,
    AckOutcome,
    AckVia,
    acknowledge,
    add_note,
    affected_monitors,
    resolve_manually,
    timeline_for,
    update_details,
)
from incidents.markdown import render_markdown
from incidents.models import EscalationRun, Incident, Notification
from incidents.models.core import Severity
from monitoring.models import Monitor, PauseEvent
from tenancy.scoping import Scope, scope_for


class NoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Seen by the agency only, never by the client."),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why it is resolved"), max_length=NOTE_MAX_CHARS, required=False
    )


class DetailsForm(forms.Form):
    """The incident's own fields; the client sees all of them (read-only)."""

    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices)
    affected_monitors = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Other affected monitors"),
        queryset=Monitor.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    root_cause = forms.CharField(
        label=gettext_lazy("Root cause"),
        max_length=ROOT_CAUSE_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    postmortem = forms.CharField(
        label=gettext_lazy("Postmortem"),
        max_length=POSTMORTEM_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy(
            "Markdown: **bold**, lists, [links](https://…); no HTML, no images."
        ),
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["affected_monitors"]
        field.queryset = (
            Monitor.objects.filter(site__client_id=incident.monitor.site.client_id)
            .exclude(pk=incident.monitor_id)
            .select_related("site")
            .order_by("site__name", "name")
        )
        field.label_from_instance = lambda m: f"{m.site.name}: {m.name}"

    @classmethod
    def of(cls, incident: Incident) -> DetailsForm:
        initial = {
            "severity": incident.severity,
            "affected_monitors": list(incident.affected_monitors.values_list("pk", flat=True)),
            "root_cause": incident.root_cause,
            "postmortem": incident.postmortem,
        }
        return cls(initial=initial, incident=incident)


@dataclass(frozen=True)
class TimelineLine:
    """One line of an incident's timeline: one of its events, or a pause or resume of its
    monitor while it was open (``front.pause_words``: by the agency, for a client's users)."""

    at: datetime
    kind: str
    label: str
    who: str = ""
    message: str = ""


def incident_timeline(scope: Scope, incident: Incident, *, now: datetime) -> list[TimelineLine]:
    """The incident's events as this user may see them, with the pauses and resumes of its
    monitor from its opening to its resolution (or now), oldest first."""
    lines = [
        TimelineLine(
            event.at,
            event.kind,
            str(event.get_kind_display()),
            event.actor.get_username() if event.actor else "",
            event.message_text,
        )
        for event in timeline_for(scope, incident)
    ]
    pauses = (
        scope.visible(PauseEvent)
        .filter(monitor_id=incident.monitor_id, at__gte=incident.opened_at)
        .filter(at__lte=incident.resolved_at or now)
        .select_related("user", "token")
    )
    lines += [
        TimelineLine(pause.at, pause.action, pause_line(pause, agency=scope.is_agency))
        for pause in pauses
    ]
    return sorted(lines, key=lambda line: line.at)


def incident_page(
    request: HttpRequest,
    scope: Scope,
    incident: Incident,
    *,
    details_form: DetailsForm | None = None,
    note_form: NoteForm | None = None,
) -> HttpResponse:
    """The incident with its timeline as this user may see it, and the agency's actions."""
    context: dict[str, Any] = {
        "incident": incident,
        "events": incident_timeline(scope, incident, now=timezone.now()),
        "notifications": scope.visible(Notification)
        .filter(incident=incident)
        .select_related("channel")
        .order_by("created_at", "pk"),
        "affected": affected_monitors(incident),
        "postmortem_html": render_markdown(incident.postmortem) if incident.postmortem else "",
        "can_act": scope.can_edit,
    }
    if scope.can_edit:
        context.update(
            escalation=scope.visible(EscalationRun).filter(incident=incident).first(),
            details_form=details_form or DetailsForm.of(incident),
            note_form=note_form or NoteForm(),
            resolve_form=ResolveForm(),
        )
    return render(request, "front/incident.html", context)


def _posted_incident(request: HttpRequest) -> tuple[Scope, Incident]:
    """The posted incident if the user sees it (else 404), and only for agency users (403)."""
    scope = scope_for(request.user)
    try:
        incident_id = int(request.POST.get("incident", ""))
    except ValueError:
        raise Http404("not found") from None
    incident = scope.get(Incident.objects.select_related("monitor__site__client"), pk=incident_id)
    if not scope.can_edit:
        raise PermissionDenied
    return scope, incident


@login_required
@require_POST
def incident_acknowledge(request: HttpRequest) -> HttpResponse:
    _scope, incident = _posted_incident(request)
    outcome = acknowledge(incident, request.user, AckVia.WEB)  # type: ignore[arg-type]
    if outcome == AckOutcome.ACKNOWLEDGED:
        messages.success(request, str(outcome.label))
    else:
        messages.warning(request, str(outcome.label))
    return redirect("front:incident", incident_id=incident.pk)


@login_required
@require_POST
def incident_resolve(request: HttpRequest) -> HttpResponse:
    _scope, incident = _posted_incident(request)
    form = ResolveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if resolve_manually(incident, request.user, note):  # type: ignore[arg-type]
        messages.success(request, _("The incident is resolved."))
    else:
        messages.warning(request, _("The incident was already resolved."))
    return redirect("front:incident", incident_id=incident.pk)


@login_required
@require_POST
def incident_note(request: HttpRequest) -> HttpResponse:
    scope, incident = _posted_incident(request)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return incident_page(request, scope, incident, note_form=form)
    add_note(incident, request.user, form.cleaned_data["text"])  # type: ignore[arg-type]
    messages.success(request, _("The note is added."))
    return redirect("front:incident", incident_id=incident.pk)


@login_required
@require_POST
def incident_details(request: HttpRequest) -> HttpResponse:
    scope, incident = _posted_incident(request)
    form = DetailsForm(request.POST, incident=incident)
    if form.is_valid():
        data = form.cleaned_data
        try:
            update_details(
                incident,
                request.user,  # type: ignore[arg-type]
                severity=data["severity"],
                root_cause=data["root_cause"],
                postmortem=data["postmortem"],
                affected_monitors=[m.pk for m in data["affected_monitors"]],
            )
        except ValidationError as exc:
            for field, found in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(request, _("The incident's details are saved."))
            return redirect("front:incident", incident_id=incident.pk)
    return incident_page(request, scope, incident, details_form=form)


# --- the one-click link --------------------------------------------------------------------


def _link_actor(request: HttpRequest, link: AckLink) -> Any:
    """Who acknowledges: the signed-in agency member of the incident's agency, else the
    person the link was sent to (a personal channel), else nobody known."""
    scope = scope_for(request.user)
    organization_id = link.incident.monitor.site.client.organization_id
    if scope.is_agency and scope.organization_id == organization_id:
        return request.user
    return link.channel.user if link.channel is not None else None


@never_cache
@require_http_methods(["GET", "POST"])
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what the link acknowledges, with a button; POST: acknowledge. 404 when invalid."""
    link = verify(token)
    if link is None:
        raise Http404("not found")
    outcome: AckOutcome | None = None
    if request.method == "POST":
        outcome = acknowledge(
            link.incident, _link_actor(request, link), AckVia.LINK, channel=link.channel
        )
    context = {"incident": link.incident, "outcome": outcome, "token": token}
    response = render(request, "front/escalation_ack.html", context)
    # The address is a secret: never send it on as a referrer, never index the page.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
