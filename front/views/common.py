"""Small pieces the agency pages share: who may open them, and ids read from a form."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from tenancy.scoping import Scope, scope_for


def agency_scope(request: HttpRequest) -> Scope:
    """Owners and engineers only: everyone else is told the page does not exist."""
    scope = scope_for(request.user)
    if not scope.is_agency:
        raise Http404("not found")
    return scope


def posted_id(request: HttpRequest, name: str) -> int:
    """An object id from the posted form; a missing or bad one is a page that does not exist."""
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise Http404("not found") from None
