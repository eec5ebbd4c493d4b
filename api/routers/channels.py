"""Alert channels (Apprise URLs). The URL is write-only: answers show its redacted form.

Agency-level channels (no client) are invisible to client users: the scoping helper keeps rows
with a null client for agency members only.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import PatchDict, Router, Status

from api.auth import scope
from api.errors import ErrorOut
from api.paging import paged
from api.schemas import ChannelIn, ChannelOut
from api.writes import assign, related, save_checked
from incidents.models import Channel
from tenancy.models import Client
from tenancy.scoping import Scope

router = Router(tags=["channels"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response=list[ChannelOut])
@paged()
def list_channels(request: HttpRequest, client: int | None = None) -> QuerySet[Channel]:
    channels = scope(request).visible(Channel)
    if client is not None:
        channels = channels.filter(client_id=client)
    return channels


def _model_values(sc: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """Body values as model values: a client id becomes a client the caller may see."""
    if values.get("client") is not None:
        values = {**values, "client": related(sc, Client, values["client"], "client")}
    return values


@router.post("", response={201: ChannelOut, **ERRORS})
def create_channel(request: HttpRequest, payload: ChannelIn) -> Status[Channel]:
    sc = scope(request)
    sc.require_edit()
    channel = Channel(organization=sc.organization(), **_model_values(sc, payload.model_dump()))
    save_checked(channel, non_field="name")
    return Status(201, channel)


@router.get("/{channel_id}", response={200: ChannelOut, **ERRORS})
def get_channel(request: HttpRequest, channel_id: int) -> Channel:
    return scope(request).get(Channel, pk=channel_id)


def _update(request: HttpRequest, channel_id: int, values: dict[str, Any]) -> Channel:
    sc = scope(request)
    channel = sc.get(Channel, pk=channel_id)
    sc.require_edit()
    assign(channel, _model_values(sc, values))
    save_checked(channel, non_field="name")
    return channel


@router.put("/{channel_id}", response={200: ChannelOut, **ERRORS})
def replace_channel(request: HttpRequest, channel_id: int, payload: ChannelIn) -> Channel:
    return _update(request, channel_id, payload.model_dump())


@router.patch("/{channel_id}", response={200: ChannelOut, **ERRORS})
def update_channel(request: HttpRequest, channel_id: int, payload: PatchDict[ChannelIn]) -> Channel:
    return _update(request, channel_id, payload)


@router.delete("/{channel_id}", response={204: None, **ERRORS})
def delete_channel(request: HttpRequest, channel_id: int) -> Status[None]:
    sc = scope(request)
    channel = sc.get(Channel, pk=channel_id)
    sc.require_edit()
    channel.delete()
    return Status(204, None)
