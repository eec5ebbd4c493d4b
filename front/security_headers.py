"""A strict Content-Security-Policy for every page sitecare serves on its own host.

The web UI runs no script of its own and keeps every style in ``static/css/sitecare.css``;
the admin and the API's interactive docs load their scripts and styles from ``/static/`` too.
So the policy admits only this origin, for scripts and styles alike, with no inline code at
all: an injected ``<script>``, event handler attribute or ``style`` attribute does nothing.
Charts and QR codes are inline SVG markup (elements with presentation attributes, no styles),
which the policy does not restrict. Responses that set their own policy (the status pages,
stricter still) keep it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

APP_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Add ``APP_CSP`` to responses without a policy of their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", APP_CSP)
        return response
