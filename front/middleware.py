"""Custom domains of status pages: a request for a page's own host name gets that page only.

Runs first in the middleware chain. When the Host header (port stripped, lowercased) is a
status page's ``custom_domain``, the request is answered here from the status page routes
alone (``front.status_urls.domain_patterns``): no admin, no login, no API, no static files,
no session on that host. Every other request goes on to Django as usual, where the
``ALLOWED_HOSTS`` check refuses unknown hosts; so the hosts admitted beyond ``ALLOWED_HOSTS``
are exactly the configured custom domains (read at most every 30 seconds).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.urls import Resolver404, URLResolver
from django.urls.resolvers import RegexPattern

from front.status_urls import domain_patterns
from front.views.status_public import not_found
from incidents.statuspage_links import page_for_domain

_resolver = URLResolver(RegexPattern(r"^/"), domain_patterns)


def request_host(request: HttpRequest) -> str:
    """The host the client asked for, lowercased, without port ("" when malformed)."""
    meta = request.META
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in meta:
        raw = meta["HTTP_X_FORWARDED_HOST"]
    else:
        raw = meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
    domain, _port = split_domain_port(str(raw))
    return domain.rstrip(".")


class StatusDomainMiddleware:
    """Serve a status page on its custom domain, and nothing else there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request_host(request)
        # sitecare's own host names (no custom domain may be one) skip the lookup entirely.
        own = host in {str(h).lower() for h in settings.ALLOWED_HOSTS}
        page_id = page_for_domain(host) if host and not own else None
        if page_id is None:
            return self.get_response(request)
        request.status_page_id = page_id  # type: ignore[attr-defined]
        try:
            match = _resolver.resolve(request.path_info)
        except Resolver404:
            return not_found(request)
        request.resolver_match = match
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
