"""A transaction run's page (steps on a waterfall, the failing step's screenshot, the trace,
console errors and requests) and the files browser checks kept, for the agency and for the
client's own users (anyone else: 404)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from front.transaction_runs import artifacts_of, transaction_run
from monitoring.browser.artifacts import file_of
from monitoring.models import ArtifactKind, BrowserArtifact, CheckKind, CheckResult, Monitor
from tenancy.scoping import scope_for

CONTENT_TYPES: dict[str, str] = {
    ArtifactKind.SCREENSHOT: "image/png",
    ArtifactKind.TRACE: "application/zip",
}
# A served file is data, never a page: no script, no plugin, no frame of it runs.
ARTIFACT_CSP = "default-src 'none'; img-src 'self'; sandbox"
ARTIFACT_WINDOW = timedelta(minutes=10)


@login_required
@require_GET
def transaction_result(request: HttpRequest, monitor_id: int, result_id: int) -> HttpResponse:
    """One run of a transaction monitor.

    1. Load the monitor and its result through the user's scope (404 for anything else).
    2. Read the result's details and the files kept with it into the page's rows.
    """
    scope = scope_for(request.user)
    monitor = scope.get(
        Monitor.objects.select_related("site__client").filter(kind=CheckKind.TRANSACTION),
        pk=monitor_id,
    )
    result = scope.get(CheckResult.objects.filter(monitor=monitor), pk=result_id)
    rows = scope.visible(BrowserArtifact).filter(monitor=monitor)
    # Rows of this moment, or named by the details; a narrow window keeps the query indexed.
    window = rows.filter(
        checked_at__gte=result.checked_at - ARTIFACT_WINDOW,
        checked_at__lte=result.checked_at + ARTIFACT_WINDOW,
    )
    run = transaction_run(result, artifacts_of(result, window))
    context = {"monitor": monitor, "result": result, "run": run}
    return render(request, "front/transaction_result.html", context)


@login_required
@require_GET
def artifact_file(request: HttpRequest, artifact_id: uuid.UUID) -> FileResponse:
    """A kept screenshot (shown inline) or trace (downloaded), through the user's scope.

    A file that is gone (retention, deleted by hand) is 404, as a foreign one is.
    """
    scope = scope_for(request.user)
    artifact = scope.get(BrowserArtifact, pk=artifact_id)
    path = file_of(artifact)
    if path is None:
        raise Http404("not found")
    trace = artifact.kind == ArtifactKind.TRACE
    stamp = timezone.localtime(artifact.checked_at).strftime("%Y%m%d-%H%M%S")
    response = FileResponse(
        path.open("rb"),
        content_type=CONTENT_TYPES.get(artifact.kind, "application/octet-stream"),
        as_attachment=trace,
        filename=f"trace-{artifact.monitor_id}-{stamp}.zip" if trace else "",
    )
    if not trace:
        response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ARTIFACT_CSP
    response["Cache-Control"] = "private, max-age=3600"
    return response
