"""The API object, whose OpenAPI document lists the answers every operation can get before its
view runs.

Each router documents the answers of its own logic (404, 403, the 422 of a domain refusal),
but some come from the framework, for every operation alike; they are added here, in one
place, so the document tells a client every status it can get (schemathesis checks that it
does):

- ``401`` and ``429`` (a wrong token from an address that sent too many, with
  ``Retry-After``) from authentication, on every operation that needs credentials;
- ``422`` when a path, query or body value does not validate (``?offset=null``), and ``400``
  when a body is not JSON at all, on every operation that takes input.

The description's ``{tokens_page}`` becomes the path of the web UI's tokens section (the
profile page), where people really make tokens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_noop
from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import OpenAPISchema

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
# English in the document, as the rest of it (the answers themselves are translated).
_UNAUTHORIZED = "Unauthorized: no valid token or signed-in session"
_TOO_MANY = "Too many wrong tokens from this address: see Retry-After"
_NOT_JSON = gettext_noop("The request body is not JSON.")
_INVALID = gettext_noop("The request has invalid fields (each named in errors).")
_METHODS = ("get", "put", "post", "delete", "patch")


def document_framework_answers(document: dict[str, Any]) -> None:
    """Add the answers of authentication and of input validation to every operation that can
    give them."""
    for path_item in document.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if operation.get("security"):
                _add(responses, 401, _UNAUTHORIZED)
                _add(responses, 429, _TOO_MANY)
            if "requestBody" in operation:
                _add(responses, 400, _NOT_JSON)
            if "requestBody" in operation or operation.get("parameters"):
                _add(responses, 422, _INVALID)


def _add(responses: dict[Any, Any], status: int, description: str) -> None:
    """Add an answer unless it is there; ninja keys answers by int, so one given as text
    would be a second, duplicate key once the document is JSON (which Swagger UI refuses)."""
    if status not in responses and str(status) not in responses:
        responses[status] = {"description": description, "content": _ERROR}


def link_tokens_page(document: dict[str, Any]) -> None:
    """Point the description's ``{tokens_page}`` at the profile page's tokens section (a path
    on this host: the docs are served from it, so the link works wherever sitecare runs)."""
    info = document.get("info", {})
    description = str(info.get("description", ""))
    info["description"] = description.replace("{tokens_page}", reverse("front:profile") + "#tokens")


class LocalSwagger(Swagger):
    """Swagger UI from sitecare's own static files, never a CDN.

    ninja serves its bundled assets only when "ninja" is in INSTALLED_APPS; sitecare adds its
    templates and static files without that (settings: start-up need not import ninja), so
    the page is rendered from ninja's local template here.
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            # A signed-in browser's calls carry its CSRF token (ninja's own rule).
            "add_csrf": isinstance(api.auth, Sequence)
            and any(getattr(auth, "csrf", False) for auth in api.auth),
        }
        return render(request, self.template, context)


class SitecareAPI(NinjaAPI):
    """ninja's API object, whose document lists the framework's answers
    (:func:`document_framework_answers`) on every operation that can give them."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_framework_answers(document)
        link_tokens_page(document)
        return document
