"""Monitors. The body is the flat definition that ``monitoring.spec.parse_monitor`` validates,
plus ``site`` (the site's id) on create; the engine's state columns are never written here.
Secret options are read back masked; a masked value sent back on PUT or PATCH keeps the secret.
``enabled`` pauses and resumes through ``monitoring.pauses``, which records when and by whom
(the token and its owner). ``tags`` names the agency's tags (``monitoring.tags``): left out
on POST and PUT it means none, on PATCH it keeps the monitor's.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

import pydantic
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Router, Status
from ninja.errors import HttpError

from api.actors import token_of
from api.auth import caller, scope
from api.errors import ErrorOut, FieldError, InvalidInput, from_pydantic
from api.inputs import Id
from api.paging import paged
from api.schemas import ContentBaselineOut, MonitorOut, monitor_body_openapi
from api.writes import assign, related, save_checked
from monitoring.content import ContentError, accept_current_content
from monitoring.models import CheckKind, ContentBaseline, Monitor, Tag
from monitoring.pauses import Actor, record_created, set_enabled
from monitoring.spec import (
    MODEL_FIELD_FOR_KEY,
    MonitorDefinition,
    monitor_as_data,
    parse_monitor,
    unmask_secrets,
)
from monitoring.tags import check_tag_name, resolve_names, set_tags
from sites.models import Site
from tenancy.scoping import Scope

router = Router(tags=["monitors"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# Model field names → the flat definition's names, for errors raised by the model itself.
BODY_NAMES = {
    **{attr: key for key, attr in MODEL_FIELD_FOR_KEY.items() if attr != key},
    "config": "options",
}


@router.get("", response=list[MonitorOut])
@paged()
def list_monitors(request: HttpRequest, site: Id | None = None) -> QuerySet[Monitor]:
    monitors = scope(request).visible(Monitor).prefetch_related("tags")
    if site is not None:
        monitors = monitors.filter(site_id=site)
    return monitors


def _site(sc: Scope, data: dict[str, Any], current: Site | None) -> Site:
    """Take ``site`` out of the body: the site the monitor goes to (default: where it is)."""
    if "site" not in data:
        if current is None:
            raise InvalidInput.one("site", _("This field is required."))
        return current
    return related(sc, Site, data.pop("site"), "site")


def _tags(sc: Scope, names: Any) -> list[Tag]:
    """The agency's tags a body names in ``tags``; a 422 on ``tags`` naming what is wrong."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidInput.one("tags", _("Give a list of tag names."))
    try:
        assert sc.organization_id is not None
        return resolve_names(sc.organization_id, [check_tag_name(name) for name in names])
    except ValueError as exc:
        raise InvalidInput.one("tags", str(exc)) from None


Parsed = tuple[Site, MonitorDefinition, list[Tag] | None]


def _parse(sc: Scope, data: dict[str, Any], current: Site | None) -> Parsed:
    """The target site, the validated definition and the tags (None: not given); all errors
    of the body reported together.

    Every site the caller can see belongs to their agency, so the agency's allowlist applies
    even when ``site`` itself is wrong.
    """
    data = dict(data)
    errors: list[FieldError] = []
    site: Site | None = None
    tags: list[Tag] | None = None
    try:
        site = _site(sc, data, current)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if "tags" in data:
        try:
            tags = _tags(sc, data.pop("tags"))
        except InvalidInput as exc:
            errors.extend(exc.errors)
    try:
        definition = parse_monitor(data, sc.organization().allowed_networks())
    except pydantic.ValidationError as exc:
        errors.extend(from_pydantic(exc.errors()))
    if errors:
        raise InvalidInput(errors)
    assert site is not None
    return site, definition, tags


def _keep_secrets(data: dict[str, Any], monitor: Monitor) -> dict[str, Any]:
    """A body that sends back the masked secrets it read keeps the stored ones."""
    if data.get("kind", CheckKind.HTTP) != monitor.kind:
        return data
    return unmask_secrets(monitor.kind, data, monitor.config)


def _store(
    request: HttpRequest,
    monitor: Monitor,
    site: Site,
    definition: MonitorDefinition,
    tags: list[Tag] | None,
) -> None:
    """Save the definition and the tags (when given); a change of ``enabled`` is a pause or
    resume, recorded."""
    values = definition.model_fields_for(monitor if monitor.pk is not None else None)
    actor = Actor.api(caller(request), token_of(request))
    with transaction.atomic():
        if monitor.pk is None:
            assign(monitor, {**values, "site": site})
            save_checked(monitor, non_field="name", names=BODY_NAMES)
            record_created(monitor, actor)
            set_tags(monitor, tags or [])
            return
        enabled = values.pop("enabled")
        assign(monitor, {**values, "site": site})
        # update_fields keeps the engine's STATE_FIELDS as they are in the database, and
        # ``enabled`` to set_enabled, which records the pause or resume.
        fields = [*values, "site", "updated_at"]
        save_checked(monitor, non_field="name", names=BODY_NAMES, update_fields=fields)
        set_enabled(monitor, enabled, actor)
        if tags is not None:
            set_tags(monitor, tags)


@router.post(
    "",
    response={201: MonitorOut, **ERRORS},
    openapi_extra=monitor_body_openapi(site_required=True, partial=False),
)
def create_monitor(request: HttpRequest, payload: Body[dict[str, Any]]) -> Status[Monitor]:
    sc = scope(request)
    sc.require_edit()
    monitor = Monitor()
    _store(request, monitor, *_parse(sc, payload, None))
    return Status(201, monitor)


@router.get("/{monitor_id}", response={200: MonitorOut, **ERRORS})
def get_monitor(request: HttpRequest, monitor_id: int) -> Monitor:
    """A monitor with its current state and last check."""
    return scope(request).get(Monitor, pk=monitor_id)


def _editable(request: HttpRequest, monitor_id: int) -> tuple[Scope, Monitor]:
    sc = scope(request)
    monitor = sc.get(Monitor.objects.select_related("site"), pk=monitor_id)
    sc.require_edit()
    return sc, monitor


@router.put(
    "/{monitor_id}",
    response={200: MonitorOut, **ERRORS},
    openapi_extra=monitor_body_openapi(site_required=False, partial=False),
)
def replace_monitor(
    request: HttpRequest, monitor_id: int, payload: Body[dict[str, Any]]
) -> Monitor:
    """Replace the definition: fields left out take their defaults (``tags``: none)."""
    sc, monitor = _editable(request, monitor_id)
    data = _keep_secrets({"tags": [], **payload}, monitor)
    _store(request, monitor, *_parse(sc, data, monitor.site))
    return monitor


@router.patch(
    "/{monitor_id}",
    response={200: MonitorOut, **ERRORS},
    openapi_extra=monitor_body_openapi(site_required=False, partial=True),
)
def update_monitor(request: HttpRequest, monitor_id: int, payload: Body[dict[str, Any]]) -> Monitor:
    """Change some fields: the rest keep their stored values."""
    sc, monitor = _editable(request, monitor_id)
    data = _keep_secrets({**monitor_as_data(monitor), **payload}, monitor)
    _store(request, monitor, *_parse(sc, data, monitor.site))
    return monitor


@router.delete("/{monitor_id}", response={204: None, **ERRORS})
def delete_monitor(request: HttpRequest, monitor_id: int) -> Status[None]:
    """Delete a monitor with its results, state changes and incidents."""
    _sc, monitor = _editable(request, monitor_id)
    monitor.delete()
    return Status(204, None)


@router.post(
    "/{monitor_id}/content-baseline",
    response={200: ContentBaselineOut, 409: ErrorOut, **ERRORS},
)
def accept_content_baseline(request: HttpRequest, monitor_id: int) -> ContentBaseline:
    """Accept the content of the latest check as the baseline (after an intended change).

    409 when there is nothing to accept: not a content monitor, not checked yet, or the
    latest check could not read the page.
    """
    _sc, monitor = _editable(request, monitor_id)
    try:
        return accept_current_content(monitor, caller(request))
    except ContentError as exc:
        raise HttpError(409, str(exc)) from None
