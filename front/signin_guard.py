"""Every signed-in request: end sessions that no longer hold, send members to enrol.

1. A session signed in under an older session epoch (two-factor sign-in was turned on or off
   since), or a session of a user with two-factor sign-in that never passed the second step,
   is signed out before the view runs: the view sees an anonymous visitor.
2. A member of an agency that requires two-factor sign-in, who has not set it up, reaches
   only the enrolment page, signing out and the language switch (and pages that need no
   account: status pages, heartbeat pings, acknowledgement links, calendar feeds). The API
   answers such a browser session 403; API tokens keep working (see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from tenancy.signin_state import is_valid, state_of

# Pages a member who still has to enrol may open (front's URL names).
ENROLMENT_OPEN = frozenset(
    {"two_factor", "logout", "set_language", "login", "incident_ack_link", "oncall_ical"}
)
# Whole URL namespaces that need no account.
PUBLIC_NAMESPACES = frozenset({"status", "heartbeat"})
API_NAMESPACE = "api"


def _may_open_before_enrolling(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return True
    if PUBLIC_NAMESPACES.intersection(match.namespaces):
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
        user = request.user
        if not user.is_authenticated:
            return None
        state = state_of(user)
        if not is_valid(request.session, state):
            logout(request)
            return None
        if not state.must_enrol or _may_open_before_enrolling(request):
            return None
        match = request.resolver_match
        if match is not None and API_NAMESPACE in match.namespaces:
            if "Authorization" in request.headers:
                return None  # a token, not this session, will say who calls
            detail = _("Your agency requires two-factor sign-in: set it up on your profile first.")
            return JsonResponse({"detail": detail, "errors": []}, status=403)
        return redirect("front:two_factor")
