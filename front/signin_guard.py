"""Every signed-in request: end sessions that no longer hold, send members to enrol.

What a session amounts to is decided in one place, ``tenancy.signin_state.standing``:

1. A session signed in under an older session epoch (two-factor sign-in was turned on or off
   since), or a session of a user with two-factor sign-in that never passed the second step,
   is signed out before the view runs: the view sees an anonymous visitor.
2. A member of an agency that requires two-factor sign-in, who has not set it up, reaches
   only the enrolment page, signing out and the language switch (and pages that need no
   account: status pages, heartbeat pings, acknowledgement links, calendar feeds).
3. The API is left to its own authentication (``api.auth``), which asks the same question:
   such a member's session is answered 403 whatever headers come with it, while a real
   API token of theirs keeps working (see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from tenancy.signin_state import Standing, forget_standing, standing

# Pages a member who still has to enrol may open (front's URL names).
ENROLMENT_OPEN = frozenset(
    {"two_factor", "logout", "set_language", "login", "incident_ack_link", "oncall_ical"}
)
# Whole URL namespaces that need no account, or (the API) that authenticate on their own.
OWN_RULES_NAMESPACES = frozenset({"status", "heartbeat", "api"})


def _may_open_before_enrolling(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return True
    if OWN_RULES_NAMESPACES.intersection(match.namespaces):
        return True
    return match.namespace == "front" and match.url_name in ENROLMENT_OPEN


class SignInGuardMiddleware:
    """After authentication (it needs ``request.user`` and the resolved view)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        found = standing(request)
        if found is Standing.ENDED:
            logout(request)
            forget_standing(request)
            return None
        if found is Standing.MUST_ENROL and not _may_open_before_enrolling(request):
            return redirect("front:two_factor")
        return None
