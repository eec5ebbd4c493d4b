"""Alert channels the user may see, with failing ones plainly marked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.models import Channel
from tenancy.scoping import scope_for


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    channels = (
        scope.visible(Channel)
        .select_related("client")
        # Failing channels first: a broken alert path is the thing to notice on this page.
        .annotate(
            failing_first=Case(
                When(consecutive_failures__gt=0, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("failing_first", "name")
    )
    return render(request, "front/channels.html", {"channels": channels})
