"""Status pages, their components, and public updates on incidents.

A page belongs to a client; its components are monitors of that client shown under public
names (every other monitor stays private). Posting a public update queues an email to each
confirmed subscriber of every published page showing the incident.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from api.auth import caller, scope
from api.errors import ErrorOut, InvalidInput, from_django
from api.inputs import Id, InputSchema
from api.paging import paged
from api.patch import Patch
from api.writes import assign, related, save_checked
from incidents.models import Incident, PublicUpdate, StatusComponent, StatusPage, UpdateStatus
from incidents.models.statuspage import DEFAULT_ACCENT
from incidents.statuspage_links import forget_domains
from incidents.statuspage_mail import post_public_update
from monitoring.models import Monitor
from sitecare.lib.names import DisplayName
from tenancy.models import Client
from tenancy.scoping import Scope

router = Router(tags=["status pages"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class PageIn(InputSchema):
    client: Id
    slug: str = Field(min_length=1, max_length=100, description="served at /status/<slug>/")
    title: DisplayName = Field(min_length=1, max_length=200)
    intro: str = Field(default="", max_length=5000, description="public text")
    published: bool = Field(default=False, description="unpublished pages answer 404")
    custom_domain: str = Field(
        default="", max_length=253, description="optional host name serving the page at /"
    )
    accent_color: str = Field(default=DEFAULT_ACCENT, max_length=7, description="#rrggbb")
    agency_name: DisplayName = Field(default="", max_length=200, description="shown in the footer")
    logo_url: str = Field(default="", max_length=500, description="an https:// image address")
    allow_subscriptions: bool = Field(
        default=True, description="whether readers may subscribe to email updates"
    )


class PageOut(Schema):
    id: int
    client: int
    slug: str
    title: str
    intro: str
    published: bool
    custom_domain: str
    accent_color: str
    agency_name: str
    logo_url: str
    allow_subscriptions: bool
    url: str = Field(description="the public page's path on sitecare's own host")
    subscribers: int = Field(description="confirmed subscribers")
    subscribers_pending: int = Field(description="subscribers yet to confirm")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_client(obj: StatusPage) -> int:
        return obj.client_id

    @staticmethod
    def resolve_url(obj: StatusPage) -> str:
        return f"/status/{obj.slug}/"

    @staticmethod
    def resolve_subscribers(obj: StatusPage) -> int:
        return obj.subscribers.filter(confirmed_at__isnull=False).count()

    @staticmethod
    def resolve_subscribers_pending(obj: StatusPage) -> int:
        return obj.subscribers.filter(confirmed_at__isnull=True).count()


class ComponentIn(InputSchema):
    page: Id
    monitor: Id = Field(description="a monitor of the page's client")
    name: DisplayName = Field(min_length=1, max_length=200, description="the public name")
    position: int = Field(default=0, ge=0)


class ComponentOut(Schema):
    id: int
    page: int
    monitor: int
    name: str
    position: int

    @staticmethod
    def resolve_page(obj: StatusComponent) -> int:
        return obj.page_id

    @staticmethod
    def resolve_monitor(obj: StatusComponent) -> int:
        return obj.monitor_id


class UpdateIn(InputSchema):
    incident: Id
    status: UpdateStatus
    body: str = Field(min_length=1, max_length=5000, description="public text")


class UpdateOut(Schema):
    id: int
    incident: int
    status: str
    body: str
    posted_at: datetime
    author: int | None

    @staticmethod
    def resolve_incident(obj: PublicUpdate) -> int:
        return obj.incident_id

    @staticmethod
    def resolve_author(obj: PublicUpdate) -> int | None:
        return obj.author_id


# --- pages -----------------------------------------------------------------------------------


@router.get("", response=list[PageOut])
@paged()
def list_pages(request: HttpRequest, client: Id | None = None) -> QuerySet[StatusPage]:
    pages = scope(request).visible(StatusPage).order_by("title", "pk")
    return pages.filter(client_id=client) if client is not None else pages


def _page_values(sc: Scope, values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if "client" in values:
        values["client"] = related(sc, Client, values["client"], "client")
    return values


@router.post("", response={201: PageOut, **ERRORS})
def create_page(request: HttpRequest, payload: PageIn) -> Status[StatusPage]:
    sc = scope(request)
    sc.require_edit()
    page = StatusPage(**_page_values(sc, payload.model_dump()))
    save_checked(page, non_field="slug")
    forget_domains()
    return Status(201, page)


# --- components ------------------------------------------------------------------------------


@router.get("/components", response=list[ComponentOut])
@paged()
def list_components(request: HttpRequest, page: Id | None = None) -> QuerySet[StatusComponent]:
    components = scope(request).visible(StatusComponent).order_by("page_id", "position", "pk")
    return components.filter(page_id=page) if page is not None else components


def _component_values(sc: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """Ids as objects the caller may see; the model checks the monitor's client."""
    values = dict(values)
    if "page" in values:
        values["page"] = related(sc, StatusPage, values["page"], "page")
    if "monitor" in values:
        values["monitor"] = related(sc, Monitor, values["monitor"], "monitor")
    return values


@router.post("/components", response={201: ComponentOut, **ERRORS})
def create_component(request: HttpRequest, payload: ComponentIn) -> Status[StatusComponent]:
    sc = scope(request)
    sc.require_edit()
    component = StatusComponent(**_component_values(sc, payload.model_dump()))
    save_checked(component, non_field="monitor")
    return Status(201, component)


@router.get("/components/{component_id}", response={200: ComponentOut, **ERRORS})
def get_component(request: HttpRequest, component_id: int) -> StatusComponent:
    return scope(request).get(StatusComponent, pk=component_id)


def _update_component(
    request: HttpRequest, component_id: int, values: dict[str, Any]
) -> StatusComponent:
    sc = scope(request)
    component = sc.get(StatusComponent, pk=component_id)
    sc.require_edit()
    assign(component, _component_values(sc, values))
    save_checked(component, non_field="monitor")
    return component


@router.put("/components/{component_id}", response={200: ComponentOut, **ERRORS})
def replace_component(
    request: HttpRequest, component_id: int, payload: ComponentIn
) -> StatusComponent:
    return _update_component(request, component_id, payload.model_dump())


@router.patch("/components/{component_id}", response={200: ComponentOut, **ERRORS})
def update_component(
    request: HttpRequest, component_id: int, payload: Patch[ComponentIn]
) -> StatusComponent:
    return _update_component(request, component_id, payload)


@router.delete("/components/{component_id}", response={204: None, **ERRORS})
def delete_component(request: HttpRequest, component_id: int) -> Status[None]:
    sc = scope(request)
    component = sc.get(StatusComponent, pk=component_id)
    sc.require_edit()
    component.delete()
    return Status(204, None)


# --- public updates --------------------------------------------------------------------------


@router.get("/public-updates", response=list[UpdateOut])
@paged()
def list_updates(request: HttpRequest, incident: Id | None = None) -> QuerySet[PublicUpdate]:
    updates = scope(request).visible(PublicUpdate).order_by("posted_at", "pk")
    return updates.filter(incident_id=incident) if incident is not None else updates


@router.post("/public-updates", response={201: UpdateOut, **ERRORS})
def create_update(request: HttpRequest, payload: UpdateIn) -> Status[PublicUpdate]:
    """Post a public update; subscribers of the pages showing the incident are emailed."""
    sc = scope(request)
    sc.require_edit()
    incident = related(sc, Incident, payload.incident, "incident")
    try:
        update = post_public_update(
            incident,
            status=payload.status,
            body=payload.body,
            author=caller(request),
            now=timezone.now(),
        )
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, "body")) from exc
    return Status(201, update)


@router.get("/public-updates/{update_id}", response={200: UpdateOut, **ERRORS})
def get_update(request: HttpRequest, update_id: int) -> PublicUpdate:
    return scope(request).get(PublicUpdate, pk=update_id)


@router.delete("/public-updates/{update_id}", response={204: None, **ERRORS})
def delete_update(request: HttpRequest, update_id: int) -> Status[None]:
    sc = scope(request)
    update = sc.get(PublicUpdate, pk=update_id)
    sc.require_edit()
    update.delete()
    return Status(204, None)


# --- one page (after the fixed paths above: "/{page_id}" would match "components") -------


@router.get("/{page_id}", response={200: PageOut, **ERRORS})
def get_page(request: HttpRequest, page_id: int) -> StatusPage:
    return scope(request).get(StatusPage, pk=page_id)


def _update_page(request: HttpRequest, page_id: int, values: dict[str, Any]) -> StatusPage:
    sc = scope(request)
    page = sc.get(StatusPage, pk=page_id)
    sc.require_edit()
    assign(page, _page_values(sc, values))
    save_checked(page, non_field="slug")
    forget_domains()
    return page


@router.put("/{page_id}", response={200: PageOut, **ERRORS})
def replace_page(request: HttpRequest, page_id: int, payload: PageIn) -> StatusPage:
    return _update_page(request, page_id, payload.model_dump())


@router.patch("/{page_id}", response={200: PageOut, **ERRORS})
def update_page(request: HttpRequest, page_id: int, payload: Patch[PageIn]) -> StatusPage:
    return _update_page(request, page_id, payload)


@router.delete("/{page_id}", response={204: None, **ERRORS})
def delete_page(request: HttpRequest, page_id: int) -> Status[None]:
    sc = scope(request)
    page = sc.get(StatusPage, pk=page_id)
    sc.require_edit()
    page.delete()
    forget_domains()
    return Status(204, None)
