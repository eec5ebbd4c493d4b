"""Tags: the agency's coloured labels on monitors (``monitoring.tags``). Owners and engineers
create, rename, recolour and delete them; a client user lists only the tags their monitors
carry and changes none. Monitors are tagged through their own ``tags`` field.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router, Status

from api.auth import scope
from api.errors import ErrorOut
from api.paging import paged
from api.patch import Patch
from api.schemas import TagIn, TagOut
from api.writes import assign, save_checked
from monitoring.models import Tag
from monitoring.tags import visible_tags
from tenancy.scoping import Scope

router = Router(tags=["tags"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("", response=list[TagOut])
@paged()
def list_tags(request: HttpRequest) -> QuerySet[Tag]:
    return visible_tags(scope(request))


@router.post("", response={201: TagOut, **ERRORS})
def create_tag(request: HttpRequest, payload: TagIn) -> Status[Tag]:
    sc = scope(request)
    sc.require_edit()
    tag = Tag(organization=sc.organization(), **payload.model_dump())
    save_checked(tag, non_field="name")
    return Status(201, tag)


def _tag(sc: Scope, tag_id: int) -> Tag:
    """A tag the caller may read (a client user: one on their monitors), else 404."""
    tag = visible_tags(sc).filter(pk=tag_id).first()
    if tag is None:
        raise Http404("not found")
    return tag


@router.get("/{tag_id}", response={200: TagOut, **ERRORS})
def get_tag(request: HttpRequest, tag_id: int) -> Tag:
    return _tag(scope(request), tag_id)


def _update(request: HttpRequest, tag_id: int, values: dict[str, Any]) -> Tag:
    sc = scope(request)
    tag = _tag(sc, tag_id)
    sc.require_edit()
    assign(tag, values)
    save_checked(tag, non_field="name")
    return tag


@router.put("/{tag_id}", response={200: TagOut, **ERRORS})
def replace_tag(request: HttpRequest, tag_id: int, payload: TagIn) -> Tag:
    return _update(request, tag_id, payload.model_dump())


@router.patch("/{tag_id}", response={200: TagOut, **ERRORS})
def update_tag(request: HttpRequest, tag_id: int, payload: Patch[TagIn]) -> Tag:
    return _update(request, tag_id, payload)


@router.delete("/{tag_id}", response={204: None, **ERRORS})
def delete_tag(request: HttpRequest, tag_id: int) -> Status[None]:
    """Delete a tag: its monitors lose it, nothing else changes."""
    sc = scope(request)
    tag = _tag(sc, tag_id)
    sc.require_edit()
    tag.delete()
    return Status(204, None)
