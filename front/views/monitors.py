"""A monitor's page: figures, chart, recent results, its state changes with its pauses and
resumes (who did each); for a content monitor also its baseline, the latest change and
accepting it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from front import summaries
from front.pause_words import pause_line, paused_time_note
from front.transaction_runs import transaction_run
from incidents.models import Incident
from monitoring.content import ContentError, accept_current_content, changed_content
from monitoring.heartbeat_page import heartbeat_info
from monitoring.models import (
    CheckKind,
    CheckResult,
    ContentBaseline,
    Monitor,
    PauseEvent,
    StateChange,
)
from sla.plan_history import plan_history
from tenancy.scoping import Scope, scope_for

RECENT_RESULTS = 100
RECENT_CHANGES = 50


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a monitor's timeline: a state change, or a pause or resume (with its line
    in words, ``front.pause_words``: a client's users read "by the agency")."""

    at: datetime
    change: StateChange | None = None
    pause: PauseEvent | None = None
    text: str = ""


def monitor_timeline(scope: Scope, monitor: Monitor) -> list[TimelineEntry]:
    """The monitor's latest state changes, pauses and resumes, newest first."""
    changes = scope.visible(StateChange).filter(monitor=monitor).order_by("-at", "-pk")
    pauses = (
        scope.visible(PauseEvent)
        .filter(monitor=monitor)
        .select_related("user", "token")
        .order_by("-at", "-pk")
    )
    entries = [TimelineEntry(c.at, change=c) for c in changes[:RECENT_CHANGES]]
    entries += [
        TimelineEntry(p.at, pause=p, text=pause_line(p, agency=scope.is_agency))
        for p in pauses[:RECENT_CHANGES]
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:RECENT_CHANGES]


@login_required
def monitor_detail(request: HttpRequest, monitor_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    monitor = scope.get(Monitor.objects.select_related("site__client"), pk=monitor_id)
    now = timezone.now()
    beats = monitor.kind == CheckKind.HEARTBEAT
    results = list(
        scope.visible(CheckResult).filter(monitor=monitor).order_by("-checked_at")[:RECENT_RESULTS]
    )
    context = {
        "monitor": monitor,
        # A heartbeat has no response times: no chart to draw.
        "row": summaries.monitor_rows(scope, [monitor], now=now, charts=not beats)[0],
        "results": results,
        # A transaction's results open their run's page; the latest is summed up on top.
        "run_links": monitor.kind == CheckKind.TRANSACTION,
        "latest_run": transaction_run(results[0], [])
        if monitor.kind == CheckKind.TRANSACTION and results
        else None,
        "timeline": monitor_timeline(scope, monitor),
        "paused_note": paused_time_note(
            monitor, plan_history(monitor.site.client).current(now).plan
        ),
        "incidents": scope.visible(Incident).filter(monitor=monitor).order_by("-opened_at")[:10],
        **content_context(scope, monitor),
        "can_edit": scope.can_edit,
        "heartbeat": heartbeat_info(monitor, now) if beats else None,
    }
    return render(request, "front/monitor.html", context)


def content_context(scope: Scope, monitor: Monitor) -> dict[str, object]:
    """A content monitor's baseline, its latest change (if the latest check saw one) and
    whether this user may accept it; nothing for other kinds."""
    if monitor.kind != CheckKind.CONTENT:
        return {}
    baseline = (
        scope.visible(ContentBaseline).filter(monitor=monitor).select_related("accepted_by").first()
    )
    return {
        "content_baseline": baseline,
        "content_change": changed_content(monitor),
        "can_accept_content": scope.can_edit,
    }


@login_required
@require_POST
def monitor_accept_content(request: HttpRequest) -> HttpResponse:
    """Make the content the latest check read the posted monitor's baseline (agency users only).

    The monitor's id is posted, not in the address: the action has no page of its own.
    """
    scope = scope_for(request.user)
    monitor = scope.get(Monitor, pk=request.POST.get("monitor"))
    if not scope.can_edit:
        raise PermissionDenied
    try:
        accept_current_content(monitor, request.user)
    except ContentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The current content is accepted: later checks are compared with it.")
        )
    return redirect("front:monitor", monitor_id=monitor.pk)
