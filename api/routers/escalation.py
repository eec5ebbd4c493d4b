"""Escalation policies (steps nested, with where each policy applies) and each agency person's
personal alert channels, the ones escalation steps page.

Both are the agency's own: owners and engineers read and write them; for anyone else every
route here answers 404, as if nothing existed. A policy is written whole (PUT, not PATCH): its
steps are replaced in the order given. Personal channels are looked up by their owner, never
through the tenant scope: nobody sees or deletes another person's through ``/me/channels``.
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from api.auth import caller, scope
from api.errors import ErrorOut, InvalidInput, from_django
from api.inputs import Id, InputSchema
from api.paging import paged
from api.schemas import ChannelOut
from incidents.escalation_edit import (
    PolicySpec,
    StepSpec,
    create_personal_channel,
    personal_channels,
    save_policy,
)
from incidents.models import Channel, EscalationPolicy, EscalationStep
from incidents.models.escalation import MAX_REPEAT, MAX_STEPS, MAX_WAIT_MINUTES
from sitecare.lib.names import DisplayName
from tenancy.scoping import Scope

router = Router(tags=["escalation"])
personal_router = Router(tags=["escalation"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# --- bodies ----------------------------------------------------------------------------------


class StepIn(InputSchema):
    wait_minutes: int = Field(
        default=15, ge=1, le=MAX_WAIT_MINUTES, description="wait for an ack before the next step"
    )
    channels: list[Id] = Field(default_factory=list, description="ids of agency channels")
    users: list[Id] = Field(
        default_factory=list, description="ids of owners/engineers, paged on personal channels"
    )
    schedules: list[Id] = Field(
        default_factory=list, description="ids of on-call schedules: whoever is on call then"
    )


class PolicyIn(InputSchema):
    name: DisplayName = Field(min_length=1, max_length=200)
    is_default: bool = Field(default=False, description="the agency's default (moves the flag)")
    repeat: int = Field(default=0, ge=0, le=MAX_REPEAT, description="extra rounds of all steps")
    steps: list[StepIn] = Field(min_length=1, max_length=MAX_STEPS)
    clients: list[Id] = Field(default_factory=list, description="clients using this policy")
    sites: list[Id] = Field(
        default_factory=list, description="sites using this policy (beats the client's)"
    )


class StepOut(Schema):
    wait_minutes: int
    channels: list[int]
    users: list[int]
    schedules: list[int]

    @staticmethod
    def resolve_channels(obj: EscalationStep) -> list[int]:
        return sorted(c.pk for c in obj.channels.all())

    @staticmethod
    def resolve_users(obj: EscalationStep) -> list[int]:
        return sorted(u.pk for u in obj.users.all())

    @staticmethod
    def resolve_schedules(obj: EscalationStep) -> list[int]:
        return sorted(s.pk for s in obj.schedules.all())


class PolicyOut(Schema):
    id: int
    name: str
    is_default: bool
    repeat: int
    steps: list[StepOut]
    clients: list[int]
    sites: list[int]
    created_at: datetime

    @staticmethod
    def resolve_steps(obj: EscalationPolicy) -> list[EscalationStep]:
        return sorted(obj.steps.all(), key=lambda s: s.position)

    @staticmethod
    def resolve_clients(obj: EscalationPolicy) -> list[int]:
        return sorted(a.client_id for a in obj.assignments.all() if a.client_id is not None)

    @staticmethod
    def resolve_sites(obj: EscalationPolicy) -> list[int]:
        return sorted(a.site_id for a in obj.assignments.all() if a.site_id is not None)


class PersonalChannelIn(InputSchema):
    name: DisplayName = Field(min_length=1, max_length=200, description="unique in the agency")
    url: str = Field(min_length=1, description="Apprise URL; write-only, never shown again")


# --- policies --------------------------------------------------------------------------------


def _agency(request: HttpRequest) -> Scope:
    sc = scope(request)
    if not sc.is_agency:
        raise Http404("not found")
    return sc


def _policies(sc: Scope) -> QuerySet[EscalationPolicy]:
    return sc.visible(EscalationPolicy).prefetch_related(
        "steps__channels", "steps__users", "steps__schedules", "assignments"
    )


def _save(sc: Scope, policy: EscalationPolicy, payload: PolicyIn) -> EscalationPolicy:
    spec = PolicySpec(
        name=payload.name,
        is_default=payload.is_default,
        repeat=payload.repeat,
        steps=[StepSpec(**step.model_dump()) for step in payload.steps],
        clients=payload.clients,
        sites=payload.sites,
    )
    try:
        save_policy(policy, spec)
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, "name")) from exc
    return sc.get(_policies(sc), pk=policy.pk)


@router.get("", response={200: list[PolicyOut], 404: ErrorOut})  # 404: client users
@paged()
def list_policies(request: HttpRequest) -> QuerySet[EscalationPolicy]:
    return _policies(_agency(request))


@router.post("", response={201: PolicyOut, **ERRORS})
def create_policy(request: HttpRequest, payload: PolicyIn) -> Status[EscalationPolicy]:
    sc = _agency(request)
    policy = _save(sc, EscalationPolicy(organization=sc.organization()), payload)
    return Status(201, policy)


@router.get("/{policy_id}", response={200: PolicyOut, **ERRORS})
def get_policy(request: HttpRequest, policy_id: int) -> EscalationPolicy:
    sc = _agency(request)
    return sc.get(_policies(sc), pk=policy_id)


@router.put("/{policy_id}", response={200: PolicyOut, **ERRORS})
def replace_policy(request: HttpRequest, policy_id: int, payload: PolicyIn) -> EscalationPolicy:
    sc = _agency(request)
    return _save(sc, sc.get(EscalationPolicy, pk=policy_id), payload)


@router.delete("/{policy_id}", response={204: None, **ERRORS})
def delete_policy(request: HttpRequest, policy_id: int) -> Status[None]:
    """Delete; incidents already escalating with it keep their copy of its steps."""
    sc = _agency(request)
    sc.get(EscalationPolicy, pk=policy_id).delete()
    return Status(204, None)


# --- personal channels -----------------------------------------------------------------------


@personal_router.get("", response={200: list[ChannelOut], 404: ErrorOut})  # 404: client users
@paged()
def list_personal_channels(request: HttpRequest) -> QuerySet[Channel]:
    _agency(request)
    return personal_channels(caller(request))


@personal_router.post("", response={201: ChannelOut, **ERRORS})
def create_personal(request: HttpRequest, payload: PersonalChannelIn) -> Status[Channel]:
    sc = _agency(request)
    assert sc.organization_id is not None
    try:
        channel = create_personal_channel(
            sc.organization_id, caller(request), payload.name, payload.url
        )
    except ValidationError as exc:
        raise InvalidInput(from_django(exc, {}, "name")) from exc
    return Status(201, channel)


def _own(request: HttpRequest, channel_id: int) -> Channel:
    _agency(request)
    channel = personal_channels(caller(request)).filter(pk=channel_id).first()
    if channel is None:
        raise Http404("not found")
    return channel


@personal_router.get("/{personal_channel_id}", response={200: ChannelOut, **ERRORS})
def get_personal(request: HttpRequest, personal_channel_id: int) -> Channel:
    return _own(request, personal_channel_id)


@personal_router.delete("/{personal_channel_id}", response={204: None, **ERRORS})
def delete_personal(request: HttpRequest, personal_channel_id: int) -> Status[None]:
    _own(request, personal_channel_id).delete()
    return Status(204, None)
