"""Request and response bodies of the REST API.

Inputs carry only what a user may set; ids of related objects are plain integers checked
against the caller's scope by the routers. Monitors have no input schema here: their body is
the flat definition validated by ``monitoring.spec.parse_monitor`` (see ``monitor_body_openapi``).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import BaseModel, field_validator

from incidents.channels import validate_channel_url
from incidents.models import Channel, Incident, IncidentState
from monitoring.checks import OPTIONS
from monitoring.models import Monitor, MonitorState
from monitoring.spec import MonitorCommon, mask_secrets
from sitecare.lib.timeutil import time_zone_error
from sites.models import Site
from tenancy.models import ApiToken

# --- clients -------------------------------------------------------------------------------


class ClientIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100)


class ClientOut(Schema):
    id: int
    name: str
    slug: str
    created_at: datetime


# --- sites ---------------------------------------------------------------------------------


class SiteIn(Schema):
    client: int
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100)
    url: str = Field(default="", max_length=500)
    time_zone: str = Field(default=Site._meta.get_field("time_zone").default, max_length=64)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        # The model has no validator; an unknown zone would break SLA math later.
        message = time_zone_error(value) if value is not None else None
        if message:
            raise ValueError(message)
        return value


class SiteOut(Schema):
    id: int
    client: int
    name: str
    slug: str
    url: str
    time_zone: str
    created_at: datetime

    @staticmethod
    def resolve_client(obj: Site) -> int:
        return obj.client_id


# --- monitors ------------------------------------------------------------------------------


class MonitorOut(Schema):
    """A monitor's definition (times in seconds, kind options apart) and its current state."""

    id: int
    site: int
    name: str
    kind: str
    url: str
    interval: int
    timeout: float
    confirm_down: int
    confirm_up: int
    recheck: int
    enabled: bool
    options: dict[str, Any]
    state: MonitorState
    state_since: datetime | None
    last_checked_at: datetime | None
    last_ok: bool | None
    last_response_ms: float | None
    last_failure_class: str
    last_message: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_site(obj: Monitor) -> int:
        return obj.site_id

    @staticmethod
    def resolve_interval(obj: Monitor) -> int:
        return obj.interval_s

    @staticmethod
    def resolve_recheck(obj: Monitor) -> int:
        return obj.recheck_s

    @staticmethod
    def resolve_timeout(obj: Monitor) -> float:
        return obj.timeout_s

    @staticmethod
    def resolve_options(obj: Monitor) -> dict[str, Any]:
        # Credentials are never shown back, not even to the monitor's editors.
        return mask_secrets(obj.kind, obj.config_for_engine())


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``#/$defs/…`` references by their definitions (OpenAPI cannot resolve them)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def monitor_body_openapi(*, site_required: bool, partial: bool) -> dict[str, Any]:
    """The OpenAPI request body of a monitor, built from the validator's own models."""
    properties: dict[str, Any] = {"site": {"type": "integer", "description": "id of the site"}}
    required: list[str] = ["site"] if site_required else []
    models: list[type[BaseModel]] = [MonitorCommon, *OPTIONS.values()]
    for model in models:
        schema = _inline(model.model_json_schema())
        properties.update(schema.get("properties", {}))
        required.extend(schema.get("required", []))
    body: dict[str, Any] = {
        "type": "object",
        "description": _("A flat monitor definition: the common fields and the kind's options."),
        "properties": properties,
        "additionalProperties": False,
    }
    if not partial:
        body["required"] = required
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


# --- channels ------------------------------------------------------------------------------


class ChannelIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, description="Apprise URL; write-only, never shown again")
    client: int | None = Field(default=None, description="empty: every client of the agency")
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _apprise_url(cls, value: str | None) -> str | None:
        # Refused now rather than failing at the first alert; the message never echoes the URL,
        # which carries secrets.
        return validate_channel_url(value) if value is not None else None


class ChannelOut(Schema):
    id: int
    client: int | None
    name: str
    url_redacted: str = Field(description="the Apprise URL with its secrets masked")
    enabled: bool
    failing: bool
    consecutive_failures: int
    last_error: str
    last_error_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_client(obj: Channel) -> int | None:
        return obj.client_id

    @staticmethod
    def resolve_url_redacted(obj: Channel) -> str:
        return obj.redacted_url

    @staticmethod
    def resolve_failing(obj: Channel) -> bool:
        return obj.is_failing


# --- incidents -----------------------------------------------------------------------------


class IncidentEventOut(Schema):
    at: datetime
    kind: str
    message: str


class IncidentOut(Schema):
    id: int
    monitor: int
    site: int
    client: int
    state: IncidentState
    opened_at: datetime
    resolved_at: datetime | None
    duration_seconds: float
    failure_class: str
    message: str

    @staticmethod
    def resolve_monitor(obj: Incident) -> int:
        return obj.monitor_id

    @staticmethod
    def resolve_site(obj: Incident) -> int:
        return obj.monitor.site_id

    @staticmethod
    def resolve_client(obj: Incident) -> int:
        return obj.monitor.site.client_id


class IncidentDetailOut(IncidentOut):
    events: list[IncidentEventOut]

    @staticmethod
    def resolve_events(obj: Incident) -> list[Any]:
        return list(obj.events.all())


# --- tokens and the caller -----------------------------------------------------------------


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    hint: str = Field(description="the first characters of the token, to recognise it")
    created_at: datetime
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the raw token: shown in this response only, store it now")

    @staticmethod
    def build(token: ApiToken, raw: str) -> TokenCreatedOut:
        return TokenCreatedOut(
            id=token.pk,
            name=token.name,
            hint=token.hint,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            token=raw,
        )


class NamedRef(Schema):
    id: int
    name: str


class MeOut(Schema):
    username: str
    role: str | None
    organization: NamedRef | None
    client: NamedRef | None
