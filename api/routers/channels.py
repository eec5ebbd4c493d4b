"""Alert channels (Apprise URLs). The URL is write-only: answers show its redacted form.

Routing: a channel without client is agency-wide, with a client it gets that client's alerts,
with a site only that site's; ``min_severity`` filters by the incident's severity.

Agency-level channels (no client) are invisible to client users: the scoping helper keeps rows
with a null client for agency members only. A personal channel (one person's pager, used by
escalation steps) is theirs alone: listed, read, changed and tested only by that person, as on
their profile page; anyone else gets 404.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from api.auth import caller, scope
from api.errors import ErrorOut
from api.inputs import Id
from api.paging import paged
from api.patch import Patch
from api.schemas import ChannelIn, ChannelOut, ChannelTestOut
from api.writes import assign, related, save_checked
from incidents.channels import send_test
from incidents.models import Channel
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope

router = Router(tags=["channels"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _channels(request: HttpRequest) -> QuerySet[Channel]:
    """The channels the caller may see: shared ones in their scope, and their own personal ones."""
    mine = Q(user__isnull=True) | Q(user=caller(request))
    return Channel.objects.filter(mine).select_related("organization")


@router.get("", response=list[ChannelOut])
@paged()
def list_channels(request: HttpRequest, client: Id | None = None) -> QuerySet[Channel]:
    channels = scope(request).visible(_channels(request))
    if client is not None:
        channels = channels.filter(client_id=client)
    return channels


def _model_values(sc: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """Body values as model values: client and site ids become objects the caller may see.

    A site's channel belongs to the site's client; the model fills it in when left out.
    """
    if values.get("client") is not None:
        values = {**values, "client": related(sc, Client, values["client"], "client")}
    if values.get("site") is not None:
        values = {**values, "site": related(sc, Site, values["site"], "site")}
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
    return scope(request).get(_channels(request), pk=channel_id)


def _update(request: HttpRequest, channel_id: int, values: dict[str, Any]) -> Channel:
    sc = scope(request)
    channel = sc.get(_channels(request), pk=channel_id)
    sc.require_edit()
    assign(channel, _model_values(sc, values))
    save_checked(channel, non_field="name")
    return channel


@router.put("/{channel_id}", response={200: ChannelOut, **ERRORS})
def replace_channel(request: HttpRequest, channel_id: int, payload: ChannelIn) -> Channel:
    return _update(request, channel_id, payload.model_dump())


@router.patch("/{channel_id}", response={200: ChannelOut, **ERRORS})
def update_channel(request: HttpRequest, channel_id: int, payload: Patch[ChannelIn]) -> Channel:
    return _update(request, channel_id, payload)


@router.post("/{channel_id}/test", response={200: ChannelTestOut, **ERRORS})
def test_channel(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    """Send a test message to the channel now, through the same path as alerts; say how."""
    sc = scope(request)
    channel = sc.get(_channels(request), pk=channel_id)
    sc.require_edit()
    outcome = send_test(channel, by=caller(request).get_username())
    return {"delivered": outcome.delivered, "error": outcome.error}


@router.delete("/{channel_id}", response={204: None, **ERRORS})
def delete_channel(request: HttpRequest, channel_id: int) -> Status[None]:
    sc = scope(request)
    channel = sc.get(_channels(request), pk=channel_id)
    sc.require_edit()
    channel.delete()
    return Status(204, None)
