"""The agency dashboard, a client's page and a site's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.onboarding import onboarding
from front import dashboard as front_dashboard
from front import summaries
from front.forms_plans import ClientPlanForm
from front.plan_steps import plan_form_initial, plan_panel
from front.views.monitor_forms import kind_choices
from incidents.models import Channel, Incident
from monitoring.models import Monitor
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import scope_for

RECENT_INCIDENTS = 20


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    now = timezone.now()
    context = {
        "board": front_dashboard.dashboard(scope, page_number=request.GET.get("page"), now=now),
        "open_incidents": summaries.happening_now(scope),
        "has_scope": scope.organization_id is not None,
        "can_edit": scope.can_edit,
        "is_owner": scope.is_owner,
        # The first steps of a new agency, until all are done (agency members only).
        "onboarding": onboarding(scope.organization_id)
        if scope.can_edit and scope.organization_id is not None
        else None,
    }
    return render(request, "front/dashboard.html", context)


@login_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    now = timezone.now()
    scope = scope_for(request.user)
    client = scope.get(Client, pk=client_id)
    board = summaries.board(scope, clients=scope.visible(Client).filter(pk=client.pk))
    incidents = (
        scope.visible(Incident)
        .filter(monitor__site__client=client)
        .select_related("monitor__site")
        .order_by("-opened_at")[:RECENT_INCIDENTS]
    )
    plan_form = None
    if scope.is_owner:
        plan_form = ClientPlanForm(client=client, initial=plan_form_initial(now))
    context = {
        "client": client,
        "board": board,
        "row": board.clients[0],
        "incidents": incidents,
        "channels": scope.visible(Channel).filter(client=client),
        **plan_panel(client, now=now),
        "plan_form": plan_form,
        "can_edit": scope.can_edit,
    }
    return render(request, "front/client.html", context)


@login_required
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    site = scope.get(Site.objects.select_related("client"), pk=site_id)
    now = timezone.now()
    monitors = list(scope.visible(Monitor).filter(site=site).order_by("name"))
    site_row = summaries.site_rows(scope, scope.visible(Site).filter(pk=site.pk), now=now)[0]
    incidents = (
        scope.visible(Incident)
        .filter(monitor__site=site)
        .select_related("monitor")
        .order_by("-opened_at")[:RECENT_INCIDENTS]
    )
    context = {
        "site": site,
        "site_row": site_row,
        "rows": summaries.monitor_rows(scope, monitors, now=now),
        "incidents": incidents,
        "can_edit": scope.can_edit,
        "kinds": kind_choices() if scope.can_edit and not monitors else [],
    }
    return render(request, "front/site.html", context)
