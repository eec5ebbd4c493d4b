"""Sites: the websites of the clients."""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from api.auth import scope
from api.errors import ErrorOut
from api.inputs import Id
from api.paging import paged
from api.patch import Patch
from api.schemas import SiteIn, SiteOut
from api.writes import assign, related, save_checked
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope

router = Router(tags=["sites"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response=list[SiteOut])
@paged()
def list_sites(request: HttpRequest, client: Id | None = None) -> QuerySet[Site]:
    sites = scope(request).visible(Site)
    if client is not None:
        sites = sites.filter(client_id=client)
    return sites


def _model_values(sc: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """Body values as model values: the client id becomes a client the caller may see."""
    if "client" in values:
        values = {**values, "client": related(sc, Client, values["client"], "client")}
    return values


@router.post("", response={201: SiteOut, **ERRORS})
def create_site(request: HttpRequest, payload: SiteIn) -> Status[Site]:
    sc = scope(request)
    sc.require_edit()
    site = Site(**_model_values(sc, payload.model_dump()))
    save_checked(site, non_field="slug")
    return Status(201, site)


@router.get("/{site_id}", response={200: SiteOut, **ERRORS})
def get_site(request: HttpRequest, site_id: int) -> Site:
    return scope(request).get(Site, pk=site_id)


def _update(request: HttpRequest, site_id: int, values: dict[str, Any]) -> Site:
    sc = scope(request)
    site = sc.get(Site, pk=site_id)
    sc.require_edit()
    assign(site, _model_values(sc, values))
    save_checked(site, non_field="slug")
    return site


@router.put("/{site_id}", response={200: SiteOut, **ERRORS})
def replace_site(request: HttpRequest, site_id: int, payload: SiteIn) -> Site:
    return _update(request, site_id, payload.model_dump())


@router.patch("/{site_id}", response={200: SiteOut, **ERRORS})
def update_site(request: HttpRequest, site_id: int, payload: Patch[SiteIn]) -> Site:
    return _update(request, site_id, payload)


@router.delete("/{site_id}", response={204: None, **ERRORS})
def delete_site(request: HttpRequest, site_id: int) -> Status[None]:
    """Delete a site with its monitors and their history."""
    sc = scope(request)
    site = sc.get(Site, pk=site_id)
    sc.require_edit()
    site.delete()
    return Status(204, None)
