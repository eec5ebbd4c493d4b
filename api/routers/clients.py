"""Clients of the agency. Agency members change them; a client user sees only their own."""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from api.auth import scope
from api.errors import ErrorOut
from api.paging import paged
from api.patch import Patch
from api.schemas import ClientIn, ClientOut
from api.writes import assign, save_checked
from tenancy.models import Client

router = Router(tags=["clients"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response=list[ClientOut])
@paged()
def list_clients(request: HttpRequest) -> QuerySet[Client]:
    return scope(request).visible(Client)


@router.post("", response={201: ClientOut, **ERRORS})
def create_client(request: HttpRequest, payload: ClientIn) -> Status[Client]:
    sc = scope(request)
    sc.require_edit()
    client = Client(organization=sc.organization(), **payload.model_dump())
    save_checked(client, non_field="slug")
    return Status(201, client)


@router.get("/{client_id}", response={200: ClientOut, **ERRORS})
def get_client(request: HttpRequest, client_id: int) -> Client:
    return scope(request).get(Client, pk=client_id)


def _update(request: HttpRequest, client_id: int, values: dict[str, Any]) -> Client:
    sc = scope(request)
    client = sc.get(Client, pk=client_id)
    sc.require_edit()
    assign(client, values)
    save_checked(client, non_field="slug")
    return client


@router.put("/{client_id}", response={200: ClientOut, **ERRORS})
def replace_client(request: HttpRequest, client_id: int, payload: ClientIn) -> Client:
    return _update(request, client_id, payload.model_dump())


@router.patch("/{client_id}", response={200: ClientOut, **ERRORS})
def update_client(request: HttpRequest, client_id: int, payload: Patch[ClientIn]) -> Client:
    return _update(request, client_id, payload)


@router.delete("/{client_id}", response={204: None, **ERRORS})
def delete_client(request: HttpRequest, client_id: int) -> Status[None]:
    """Delete a client with all its sites, monitors, incidents and channels."""
    sc = scope(request)
    client = sc.get(Client, pk=client_id)
    sc.require_edit()
    client.delete()
    return Status(204, None)
