"""The configuration document's schema, and the validation of a whole document at once.

Monitors are flat mappings validated by :func:`monitoring.spec.parse_monitor` (the one monitor
validator) with the network allowlist the same file gives the agency.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from core.configcode.statuspages import STATUS_PAGE_FIELDS, StatusPageSpec
from incidents.channels import validate_channel_url
from incidents.templating import check_template
from monitoring.models import TagColour
from monitoring.spec import MonitorDefinition
from monitoring.tags import TagName
from sitecare.lib.names import check_name
from sitecare.lib.netpolicy import IPNetwork, validate_check_url
from sitecare.lib.timeutil import known_time_zone
from sites.models import Site
from sla import terms
from sla.models import CarePlan, UnknownTime
from tenancy.models import Organization

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(_("use only letters, digits, hyphens and underscores"))
    return value


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(
            _("%(entry)s is not an IP network (like 127.0.0.0/8 or ::1/128)") % {"entry": value}
        ) from None


def _language(value: str) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if value not in codes:
        raise ValueError(_("must be one of: %(codes)s") % {"codes": ", ".join(codes)})
    return value


def _currency(value: str) -> str:
    if not (len(value) == 3 and value.isascii() and value.isalpha()):
        raise ValueError(_("give a three-letter currency code, like PLN or EUR"))
    return value


def _site_url(value: str) -> str:
    return validate_check_url(value) if value else value


def _none_is_empty(value: Any) -> Any:
    """``sites:`` with nothing after it is YAML null; read it as an empty list."""
    return [] if value is None else value


Slug = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_slug)]
# The length first: checked on the text, it says "at most 200 characters" as everywhere else.
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name)]
Network = Annotated[str, AfterValidator(_network)]


NoneIsEmpty = BeforeValidator(_none_is_empty)


class Spec(BaseModel):
    """Shared settings: unknown fields are errors; YAML numbers are fine where text is."""

    model_config = ConfigDict(
        extra="forbid", coerce_numbers_to_str=True, str_strip_whitespace=True, frozen=True
    )


class ChannelSpec(Spec):
    """An alert channel: an Apprise URL (a secret: use ``${ENV}``), who it is for, its texts.

    ``site`` (a client's channel only) narrows it to one site of that client; incidents less
    severe than ``min_severity`` are not sent to it; empty templates mean the built-in texts.
    """

    name: Name
    url: Annotated[str, Field(min_length=1), AfterValidator(validate_channel_url)]
    enabled: bool = True
    site: Slug | None = None
    min_severity: Literal["critical", "major", "minor"] = "minor"
    title_template: Annotated[str, Field(max_length=300), AfterValidator(check_template)] = ""
    body_template: Annotated[str, Field(max_length=4000), AfterValidator(check_template)] = ""


class TagSpec(Spec):
    """A tag of the agency: a name (unique in any case) and a colour of the palette."""

    name: TagName
    colour: Literal[tuple(TagColour.values)] = TagColour.BLUE.value  # type: ignore[valid-type]


class SiteSpec(Spec):
    slug: Slug
    name: Name
    url: Annotated[str, Field(max_length=500), AfterValidator(_site_url)] = ""
    time_zone: Annotated[str, AfterValidator(known_time_zone)] = Field(
        default_factory=lambda: str(Site._meta.get_field("time_zone").default)
    )
    # Each item is checked by monitoring.spec.parse_monitor in validate_document (its
    # ``tags`` by core.configcode.tags).
    monitors: Annotated[list[dict[str, Any]], NoneIsEmpty] = []


class ClientSpec(Spec):
    """A client; ``plan`` names a care plan of the file or of the agency, ``monthly_fee`` is
    the fee agreed with this client when it differs from the plan's."""

    slug: Slug
    name: Name
    plan: Slug | None = None
    monthly_fee: Annotated[Decimal, Field(ge=0)] | None = None
    plan_starts_on: date | None = None
    channels: Annotated[list[ChannelSpec], NoneIsEmpty] = []
    sites: Annotated[list[SiteSpec], NoneIsEmpty] = []
    # Each item is checked by core.configcode.maintenance and the window model in validate_data.
    maintenance: Annotated[list[dict[str, Any]], NoneIsEmpty] = []
    # Components are checked against the file's monitors by core.configcode.statuspages.
    status_pages: Annotated[list[StatusPageSpec], NoneIsEmpty] = []


class TargetSpec(Spec):
    """A priority's response and resolution targets, minutes of the plan's calendar."""

    response_minutes: Annotated[int, Field(ge=1)] | None = None
    resolution_minutes: Annotated[int, Field(ge=1)] | None = None


Minutes = Annotated[int, Field(ge=1)] | None


class PlanSpec(Spec):
    """A care plan. Hours, closed dates and credit tiers go through ``sla.terms`` (the parsers
    the UI and the API use); the model's own checks run on top (``validate``)."""

    slug: Slug
    name: Name
    description: str = ""
    availability_target: Annotated[Decimal, Field(gt=0, le=100)]
    window: Literal["month", "quarter"] = "month"
    time_zone: Annotated[str, AfterValidator(known_time_zone)] = Field(
        default_factory=lambda: str(CarePlan._meta.get_field("time_zone").default)
    )
    business_hours: Annotated[dict[str, str], BeforeValidator(terms.parse_hours)] = {}
    holiday_country: Annotated[str, Field(max_length=8)] = ""
    holiday_subdivision: Annotated[str, Field(max_length=16)] = ""
    closed_dates: Annotated[list[str], BeforeValidator(terms.parse_closed_dates)] = []
    exclude_maintenance: bool = True
    # excluded, up or down: checked by the care plan model (``validate``), as in the API.
    unknown_time: str = UnknownTime.EXCLUDED.value
    targets: Annotated[dict[Literal["P1", "P2", "P3", "P4"], TargetSpec], NoneIsEmpty] = {}
    support_hours: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    rpo_minutes: Minutes = None
    rto_minutes: Minutes = None
    monthly_fee: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    currency: Annotated[str, AfterValidator(_currency)] = Field(
        default_factory=lambda: str(CarePlan._meta.get_field("currency").default)
    )
    credits: Annotated[list[dict[str, str]], BeforeValidator(terms.parse_credits)] = []


class AgencySpec(Spec):
    slug: Slug
    name: Name
    network_allowlist: Annotated[list[Network], NoneIsEmpty] = []
    alert_language: Annotated[str, AfterValidator(_language)] = Field(
        default_factory=lambda: str(settings.LANGUAGE_CODE)
    )
    # Seconds; a monitor down again this soon after recovering is flapping (0: no detection).
    flap_window_seconds: int = Field(
        default_factory=lambda: int(Organization._meta.get_field("flap_window_seconds").default),
        ge=0,
        le=86_400,
    )

    def networks(self) -> list[IPNetwork]:
        return [ipaddress.ip_network(entry) for entry in self.network_allowlist]


class Document(Spec):
    """The whole file: one agency, its tags, its agency-wide channels and its clients."""

    version: Literal[1] = 1
    agency: AgencySpec
    tags: Annotated[list[TagSpec], NoneIsEmpty] = []
    channels: Annotated[list[ChannelSpec], NoneIsEmpty] = []
    # Each item is checked by PlanSpec and the care plan model in validate_document.
    plans: Annotated[list[dict[str, Any]], NoneIsEmpty] = []
    clients: Annotated[list[ClientSpec], NoneIsEmpty] = []


SCHEMA_FIELDS = (
    frozenset(
        name
        for model in (Document, AgencySpec, TagSpec, ChannelSpec, ClientSpec, SiteSpec)
        for name in model.model_fields
    )
    | STATUS_PAGE_FIELDS
)
PLAN_FIELDS = frozenset(name for model in (PlanSpec, TargetSpec) for name in model.model_fields)


@dataclass(frozen=True)
class ValidConfig:
    """A document that passed validation, with its monitors parsed (by client and site index),
    its care plans as model values, checked and normalised by the model (in file order), and
    its maintenance windows as model values with their site's slug (by client index), and
    each monitor's tag names (in the order of ``monitors``)."""

    document: Document
    monitors: dict[tuple[int, int], list[MonitorDefinition]]
    monitor_tags: dict[tuple[int, int], list[list[str]]] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    windows: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
