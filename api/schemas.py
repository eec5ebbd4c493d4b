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

from api.inputs import Id, InputSchema
from incidents.actions import (
    NOTE_MAX_CHARS,
    POSTMORTEM_MAX_CHARS,
    ROOT_CAUSE_MAX_CHARS,
    affected_monitors,
)
from incidents.channels import validate_channel_url
from incidents.markdown import render_markdown
from incidents.models import Channel, Incident, IncidentEvent, IncidentState
from incidents.models.core import Severity
from incidents.templating import PLACEHOLDERS, check_template
from monitoring.checks import OPTIONS
from monitoring.models import ContentBaseline, Monitor, MonitorState, TagColour
from monitoring.spec import MonitorCommon, mask_secrets
from monitoring.tags import TAG_NAME_MAX, TagName, tag_names
from sitecare.lib.names import DisplayName
from sitecare.lib.timeutil import known_time_zone
from sites.models import Site
from tenancy.models import ApiToken

# --- clients -------------------------------------------------------------------------------


# Messages are stored as data (sitecare.lib.messages) and read in the request's language.
MESSAGE_TEXT = "the message in the request's language"
MESSAGE_CODE = "the message's catalogue key (its English template); empty: a text kept as typed"
MESSAGE_ARGS = "the values of the message's placeholders"


class ClientIn(InputSchema):
    name: DisplayName = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100)


class ClientOut(Schema):
    id: int
    name: str
    slug: str
    created_at: datetime


# --- sites ---------------------------------------------------------------------------------


class SiteIn(InputSchema):
    client: Id
    name: DisplayName = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100)
    url: str = Field(default="", max_length=500)
    time_zone: str = Field(default=Site._meta.get_field("time_zone").default, max_length=64)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # The model's validator runs only in full_clean; an unknown zone would break SLA math.
        return known_time_zone(value)


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
    critical: bool = Field(description="counts for the SLA: the site is down while it is down")
    options: dict[str, Any]
    state: MonitorState
    state_since: datetime | None
    last_checked_at: datetime | None
    last_ok: bool | None
    last_response_ms: float | None
    last_failure_class: str
    last_message: str = Field(description=MESSAGE_TEXT)
    last_message_code: str = Field(description=MESSAGE_CODE)
    last_message_args: dict[str, Any] = Field(description=MESSAGE_ARGS)
    tags: list[str] = Field(description="names of the agency's tags on the monitor")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_last_message(obj: Monitor) -> str:
        return obj.last_message_text

    @staticmethod
    def resolve_site(obj: Monitor) -> int:
        return obj.site_id

    @staticmethod
    def resolve_tags(obj: Monitor) -> list[str]:
        return tag_names(obj)

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


class ContentBaselineOut(Schema):
    """What a content change monitor compares its checks with."""

    monitor: int
    sha256: str
    learned_at: datetime
    accepted_by: str | None = Field(description="who accepted it; empty when learned")
    excerpt: str = Field(description="the normalized content as compared (bounded)")

    @staticmethod
    def resolve_monitor(obj: ContentBaseline) -> int:
        return obj.monitor_id

    @staticmethod
    def resolve_accepted_by(obj: ContentBaseline) -> str | None:
        return obj.accepted_by.get_username() if obj.accepted_by is not None else None


class TagIn(InputSchema):
    name: TagName = Field(max_length=TAG_NAME_MAX, description="unique in the agency, any case")
    # Text, not the enum: the PATCH body model is rebuilt where the enum's name is unknown.
    colour: str = Field(
        default=TagColour.BLUE.value,
        description="a colour of the palette (white text on it is readable: WCAG AA)",
        json_schema_extra={"enum": list(TagColour.values)},
    )

    @field_validator("colour")
    @classmethod
    def _palette(cls, value: str | None) -> str | None:
        if value is not None and value not in TagColour.values:
            raise ValueError(
                _("must be one of: %(values)s") % {"values": ", ".join(TagColour.values)}
            )
        return value


class TagOut(Schema):
    id: int
    name: str
    colour: str
    created_at: datetime


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
    properties: dict[str, Any] = {
        "site": {"type": "integer", "description": "id of the site"},
        "tags": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": TAG_NAME_MAX},
            "description": (
                "names of the agency's tags (any case); on PUT and POST left out means none, "
                "on PATCH left out keeps them"
            ),
        },
    }
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


PLACEHOLDER_HELP = "placeholders: " + ", ".join("{" + name + "}" for name in PLACEHOLDERS)


class ChannelIn(InputSchema):
    name: DisplayName = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, description="Apprise URL; write-only, never shown again")
    client: Id | None = Field(default=None, description="empty: every client of the agency")
    site: Id | None = Field(
        default=None, description="set: only this site's alerts (the client is the site's)"
    )
    # Text, not the enum: the PATCH body model is rebuilt where the enum's name is unknown.
    min_severity: str = Field(
        default=Severity.MINOR.value,
        description="incidents less severe than this are not sent",
        json_schema_extra={"enum": list(Severity.values)},
    )
    enabled: bool = True
    title_template: str = Field(
        default="", max_length=300, description=f"empty: the built-in title; {PLACEHOLDER_HELP}"
    )
    body_template: str = Field(
        default="", max_length=4000, description=f"empty: the built-in text; {PLACEHOLDER_HELP}"
    )

    @field_validator("title_template", "body_template")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return check_template(value) if value is not None else None

    @field_validator("min_severity")
    @classmethod
    def _severity(cls, value: str | None) -> str | None:
        if value is not None and value not in Severity.values:
            raise ValueError(
                _("must be one of: %(values)s") % {"values": ", ".join(Severity.values)}
            )
        return value

    @field_validator("url")
    @classmethod
    def _apprise_url(cls, value: str | None) -> str | None:
        # Refused now rather than failing at the first alert; the message never echoes the URL,
        # which carries secrets.
        return validate_channel_url(value) if value is not None else None


class ChannelOut(Schema):
    id: int
    client: int | None
    site: int | None
    min_severity: str
    name: str
    url_redacted: str = Field(description="the Apprise URL with its secrets masked")
    enabled: bool
    title_template: str
    body_template: str
    failing: bool
    failing_since: datetime | None = Field(
        description="when a notification last ran out of attempts here (the owners were told)"
    )
    consecutive_failures: int
    last_error: str = Field(description=MESSAGE_TEXT)
    last_error_code: str = Field(description=MESSAGE_CODE)
    last_error_args: dict[str, Any] = Field(description=MESSAGE_ARGS)
    last_error_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_client(obj: Channel) -> int | None:
        return obj.client_id

    @staticmethod
    def resolve_last_error(obj: Channel) -> str:
        return obj.last_error_text

    @staticmethod
    def resolve_site(obj: Channel) -> int | None:
        return obj.site_id

    @staticmethod
    def resolve_url_redacted(obj: Channel) -> str:
        return obj.redacted_url

    @staticmethod
    def resolve_failing(obj: Channel) -> bool:
        return obj.is_failing


class ChannelTestOut(Schema):
    delivered: bool
    error: str = Field(description="why the test message was not delivered (secrets removed)")


# --- incidents -----------------------------------------------------------------------------


class IncidentEventOut(Schema):
    at: datetime
    kind: str
    message: str = Field(description=MESSAGE_TEXT)
    message_code: str = Field(description=MESSAGE_CODE)
    message_args: dict[str, Any] = Field(description=MESSAGE_ARGS)
    actor: str | None = Field(description="who did it (user name); null: sitecare itself")
    details: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: IncidentEvent) -> str | None:
        return obj.actor.get_username() if obj.actor is not None else None

    @staticmethod
    def resolve_message(obj: IncidentEvent) -> str:
        return obj.message_text


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
    message: str = Field(description=MESSAGE_TEXT)
    message_code: str = Field(description=MESSAGE_CODE)
    message_args: dict[str, Any] = Field(description=MESSAGE_ARGS)
    severity: Severity
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(description="user name; null: not known or not yet")

    @staticmethod
    def resolve_monitor(obj: Incident) -> int:
        return obj.monitor_id

    @staticmethod
    def resolve_message(obj: Incident) -> str:
        return obj.message_text

    @staticmethod
    def resolve_acknowledged_by(obj: Incident) -> str | None:
        return obj.acknowledged_by.get_username() if obj.acknowledged_by is not None else None

    @staticmethod
    def resolve_site(obj: Incident) -> int:
        return obj.monitor.site_id

    @staticmethod
    def resolve_client(obj: Incident) -> int:
        return obj.monitor.site.client_id


class IncidentDetailOut(IncidentOut):
    """One incident with its fields and its timeline as the caller may see it (set by the
    router as ``timeline``: client users see no internal notes or escalation lines)."""

    affected_monitors: list[int] = Field(description="its own monitor first, then the others")
    root_cause: str
    postmortem: str = Field(description="Markdown")
    postmortem_html: str = Field(description="the postmortem rendered: no raw HTML, safe links")
    events: list[IncidentEventOut]

    @staticmethod
    def resolve_affected_monitors(obj: Incident) -> list[int]:
        return [m.pk for m in affected_monitors(obj)]

    @staticmethod
    def resolve_postmortem_html(obj: Incident) -> str:
        return str(render_markdown(obj.postmortem)) if obj.postmortem else ""

    @staticmethod
    def resolve_events(obj: Incident) -> list[Any]:
        return list(getattr(obj, "timeline", []))


class IncidentFieldsIn(InputSchema):
    """The incident's own fields; each left out stays as it is."""

    severity: Severity | None = None
    affected_monitors: list[Id] | None = Field(
        default=None, description="ids of the client's monitors (its own is always included)"
    )
    root_cause: str | None = Field(default=None, max_length=ROOT_CAUSE_MAX_CHARS)
    postmortem: str | None = Field(
        default=None,
        max_length=POSTMORTEM_MAX_CHARS,
        description="Markdown; raw HTML shows as text",
    )


class ResolveIn(InputSchema):
    note: str = Field(default="", max_length=NOTE_MAX_CHARS, description="why it is resolved")


class NoteIn(InputSchema):
    text: str = Field(min_length=1, max_length=NOTE_MAX_CHARS)


# --- tokens and the caller -----------------------------------------------------------------


class TokenIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    hint: str = Field(description="the first characters of the token, to recognise it")
    created_at: datetime
    last_used_at: datetime | None
    survives_password_change: bool = Field(
        description="kept when the owner's password changes (chosen on the profile page only)"
    )


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
            survives_password_change=token.survives_password_change,
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
