"""The caller's own API tokens. The raw token is in the create answer only; we keep its hash."""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from api.auth import caller
from api.errors import ErrorOut
from api.paging import paged
from api.schemas import TokenCreatedOut, TokenIn, TokenOut
from tenancy.models import ApiToken

router = Router(tags=["tokens"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _own(request: HttpRequest) -> QuerySet[ApiToken]:
    # Tokens belong to a person, not a tenant: even the agency owner sees only their own.
    return ApiToken.objects.filter(user=caller(request))


@router.get("", response=list[TokenOut])
@paged()
def list_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    return _own(request)


@router.post("", response={201: TokenCreatedOut, **ERRORS})
def create_token(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    token, raw = ApiToken.issue(caller(request), payload.name)
    return Status(201, TokenCreatedOut.build(token, raw))


@router.delete("/{token_id}", response={204: None, **ERRORS})
def delete_token(request: HttpRequest, token_id: int) -> Status[None]:
    """Revoke a token: requests carrying it are refused from now on."""
    get_object_or_404(_own(request), pk=token_id).delete()
    return Status(204, None)
