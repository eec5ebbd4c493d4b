"""Monitors. The body is the flat definition that ``monitoring.spec.parse_monitor`` validates,
plus ``site`` (the site's id) on create; the engine's state columns are never written here.
Secret options are read back masked; a masked value sent back on PUT or PATCH keeps the secret.
``enabled`` pauses and resumes through ``monitoring.pauses``, which records when and by whom
(the token and its owner).
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
from monitoring.models import CheckKind, ContentBaseline, Monitor
from monitoring.pauses import Actor, record_created, set_enabled
from monitoring.spec import (
    MODEL_FIELD_FOR_KEY,
    MonitorDefinition,
    monitor_as_data,
    parse_monitor,
    unmask_secrets,
)
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
    monitors = scope(request).visible(Monitor)
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


def _parse(sc: Scope, data: dict[str, Any], current: Site | None) -> tuple[Site, MonitorDefinition]:
    """The target site and the validated definition; all errors of the body reported together.

    Every site the caller can see belongs to their agency, so the agency's allowlist applies
    even when ``site`` itself is wrong.
    """
    data = dict(data)
    errors: list[FieldError] = []
    site: Site | None = None
    try:
        site = _site(sc, data, current)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    try:
        definition = parse_monitor(data, sc.organization().allowed_networks())
    except pydantic.ValidationError as exc:
        errors.extend(from_pydantic(exc.errors()))
    if errors:
        raise InvalidInput(errors)
    assert site is not None
    return site, definition


def _keep_secrets(data: dict[str, Any], monitor: Monitor) -> dict[str, Any]:
    """A body that sends back the masked secrets it read keeps the stored ones."""
    if data.get("kind", CheckKind.HTTP) != monitor.kind:
        return data
    return unmask_secrets(monitor.kind, data, monitor.config)


def _store(
    request: HttpRequest, monitor: Monitor, site: Site, definition: MonitorDefinition
) -> None:
    """Save the definition; a change of ``enabled`` is a pause or resume, recorded."""
    values = definition.model_fields_for(monitor if monitor.pk is not None else None)
    actor = Actor.api(caller(request), token_of(request))
    with transaction.atomic():
        if monitor.pk is None:
            assign(monitor, {**values, "site": site})
            save_checked(monitor, non_field="name", names=BODY_NAMES)
            record_created(monitor, actor)
            return
        enabled = values.pop("enabled")
        assign(monitor, {**values, "site": site})
        # update_fields keeps the engine's STATE_FIELDS as they are in the database, and
        # ``enabled`` to set_enabled, which records the pause or resume.
        fields = [*values, "site", "updated_at"]
        save_checked(monitor, non_field="name", names=BODY_NAMES, update_fields=fields)
        set_enabled(monitor, enabled, actor)


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
    """Replace the definition: fields left out take their defaults."""
    sc, monitor = _editable(request, monitor_id)
    _store(request, monitor, *_parse(sc, _keep_secrets(payload, monitor), monitor.site))
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
