"""One JSON shape for every API error: ``{"detail": "...", "errors": [{"field", "message"}]}``.

- 401 when no valid credentials were sent;
- 403 when the user sees the object but may not change it (``NotPermitted``), or when a
  browser session's user must set up two-factor sign-in first (``EnrolmentRequired``);
- 429 with ``Retry-After`` for a wrong token from an address that sent too many (a right
  token is let in all the same); 401 and 429 are listed on every operation that needs
  credentials (``api.openapi``);
- 404 ``{"detail": "Not found"}`` for absent and foreign objects alike, so a client user never
  learns that another client's object exists;
- 422 with ``errors`` naming the request body's fields (query and path parameters by their
  own names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from sitecare.lib.validation_messages import error_message
from tenancy.scoping import NotPermitted
from tenancy.signin_state import EnrolmentRequired
from tenancy.throttle import SignInLocked

# Where ninja says a value came from; dropped so that a field is named as the client sent it.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
# The parameter name every router gives its request body (see ``_field_name``).
BODY_PARAMS = frozenset({"payload"})


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


class InvalidInput(Exception):
    """Input the domain refused; becomes a 422 listing each field and what is wrong with it."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors)
        self.errors = list(errors)

    @classmethod
    def one(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldError(field=field, message=message)])


def _field_name(loc: Iterable[Any], body_params: frozenset[str]) -> str:
    """``("body", "payload", "url")`` → ``"url"``; nested locations are joined with dots."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        # ninja puts the view's body parameter name first; the client never sent that name.
        if source == "body" and parts and parts[0] in body_params:
            parts.pop(0)
    return ".".join(parts) or NON_FIELD_ERRORS


def _message(error: Mapping[str, Any]) -> str:
    # The one wording of forms, config-as-code and the API, in the caller's language.
    return error_message(error)


def from_pydantic(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Field errors from pydantic's (or ninja's) error dicts."""
    return [
        FieldError(field=_field_name(e.get("loc", ()), BODY_PARAMS), message=_message(e))
        for e in errors
    ]


def from_django(
    exc: DjangoValidationError, names: Mapping[str, str], non_field: str
) -> list[FieldError]:
    """Field errors from a model's ``full_clean``; model field names mapped to body names.

    Django reports a unique constraint over several columns (``site`` + ``name``) as a
    non-field error; ``non_field`` names the body field the user should change.
    """
    result: list[FieldError] = []
    for field, messages in exc.message_dict.items():
        name = non_field if field == NON_FIELD_ERRORS else names.get(field, field)
        result.extend(FieldError(field=name, message=str(m)) for m in messages)
    return result


def not_found_response(request: HttpRequest) -> HttpResponse:
    """A JSON 404 for paths under the API that match no route (Django would answer HTML)."""
    return JsonResponse(ErrorOut(detail=_("Not found")).model_dump(), status=404)


def _respond(api: NinjaAPI, request: HttpRequest, status: int, body: ErrorOut) -> HttpResponse:
    return api.create_response(request, body.model_dump(), status=status)


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn exceptions into the JSON errors above."""

    def not_found(request: HttpRequest, exc: object) -> HttpResponse:
        return _respond(api, request, 404, ErrorOut(detail=_("Not found")))

    def not_permitted(request: HttpRequest, exc: object) -> HttpResponse:
        detail = _("You may view this but not change it.")
        return _respond(api, request, 403, ErrorOut(detail=detail))

    def must_enrol(request: HttpRequest, exc: object) -> HttpResponse:
        detail = _("Your agency requires two-factor sign-in: set it up on your profile first.")
        return _respond(api, request, 403, ErrorOut(detail=detail))

    def unauthenticated(request: HttpRequest, exc: object) -> HttpResponse:
        detail = _("Authentication required: send the header Authorization: Bearer <token>.")
        response = _respond(api, request, 401, ErrorOut(detail=detail))
        response["WWW-Authenticate"] = 'Bearer realm="sitecare"'
        return response

    def locked(request: HttpRequest, exc: object) -> HttpResponse:
        assert isinstance(exc, SignInLocked)
        wait = exc.seconds_left(timezone.now())
        detail = _("Too many wrong tokens from your address: try again in %(seconds)s s.") % {
            "seconds": wait
        }
        response = _respond(api, request, 429, ErrorOut(detail=detail))
        response["Retry-After"] = str(wait)
        return response

    def http_error(request: HttpRequest, exc: object) -> HttpResponse:
        assert isinstance(exc, HttpError)
        return _respond(api, request, exc.status_code, ErrorOut(detail=exc.message))

    def invalid(request: HttpRequest, exc: object) -> HttpResponse:
        if isinstance(exc, InvalidInput):
            errors = exc.errors
        else:
            assert isinstance(exc, NinjaValidationError)
            errors = from_pydantic(exc.errors)
        body = ErrorOut(detail=_("The request has invalid fields."), errors=errors)
        return _respond(api, request, 422, body)

    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(NotPermitted, not_permitted)
    api.add_exception_handler(EnrolmentRequired, must_enrol)
    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(SignInLocked, locked)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(NinjaValidationError, invalid)
    api.add_exception_handler(InvalidInput, invalid)
