"""Writing an escalation policy as a whole: its steps, targets and where it applies.

The web form and the API both describe a policy as a :class:`PolicySpec`; :func:`save_policy`
checks all of it first (each refusal named by its field: ``name``, ``steps.1.users``, …) and
then writes it in one transaction, or writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from incidents.channels import validate_channel_url
from incidents.models import (
    Channel,
    EscalationPolicy,
    EscalationStep,
    OnCallSchedule,
    PolicyAssignment,
)
from incidents.models.escalation import MAX_REPEAT, MAX_STEPS, MAX_WAIT_MINUTES
from incidents.models.oncall import agency_people
from sites.models import Site
from tenancy.models import Client

NAME_MAX_CHARS = 200


@dataclass(frozen=True)
class StepSpec:
    """One step: wait this long for an ack after paging these channels, people, schedules."""

    wait_minutes: int
    channels: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    schedules: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PolicySpec:
    """A whole policy: its name, default flag, repeats, steps, and the clients and sites it
    is chosen for."""

    name: str
    is_default: bool = False
    repeat: int = 0
    steps: list[StepSpec] = field(default_factory=list)
    clients: list[int] = field(default_factory=list)
    sites: list[int] = field(default_factory=list)


def policy_spec(policy: EscalationPolicy) -> PolicySpec:
    """A saved policy as a spec (to fill an edit form)."""
    steps = policy.steps.order_by("position").prefetch_related("channels", "users", "schedules")
    assignments = list(policy.assignments.all())
    return PolicySpec(
        name=policy.name,
        is_default=policy.is_default,
        repeat=policy.repeat,
        steps=[
            StepSpec(
                wait_minutes=s.wait_minutes,
                channels=sorted(c.pk for c in s.channels.all()),
                users=sorted(u.pk for u in s.users.all()),
                schedules=sorted(x.pk for x in s.schedules.all()),
            )
            for s in steps
        ],
        clients=sorted(a.client_id for a in assignments if a.client_id is not None),
        sites=sorted(a.site_id for a in assignments if a.site_id is not None),
    )


def step_channels(organization_id: int) -> QuerySet[Channel]:
    """Channels a step may page: the agency's shared ones (personal ones go through people)."""
    return Channel.objects.filter(organization_id=organization_id, user__isnull=True)


def _unknown(ids: Iterable[int], allowed: QuerySet[Model]) -> list[int]:
    wanted = set(ids)
    found = set(allowed.filter(pk__in=wanted).values_list("pk", flat=True))
    return sorted(wanted - found)


class _Errors:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.found.setdefault(name, []).append(message)

    def unknown(self, name: str, ids: Iterable[int], allowed: QuerySet[Model]) -> None:
        missing = _unknown(ids, allowed)
        if missing:
            listed = ", ".join(str(pk) for pk in missing)
            self.add(name, _("No such object: %(ids)s.") % {"ids": listed})


def check_policy(policy: EscalationPolicy, spec: PolicySpec) -> None:
    """Raise a ValidationError naming every field of the spec that cannot be saved."""
    org = policy.organization_id
    errors = _Errors()
    name = spec.name.strip()
    if not name:
        errors.add("name", _("This field is required."))
    elif len(name) > NAME_MAX_CHARS:
        errors.add("name", _("At most %(limit)d characters.") % {"limit": NAME_MAX_CHARS})
    elif (
        EscalationPolicy.objects.filter(organization_id=org, name=name)
        .exclude(pk=policy.pk)
        .exists()
    ):
        errors.add("name", _("Another policy has this name."))
    if not 0 <= spec.repeat <= MAX_REPEAT:
        errors.add("repeat", _("From 0 to %(max)d.") % {"max": MAX_REPEAT})
    if not 1 <= len(spec.steps) <= MAX_STEPS:
        errors.add("steps", _("From 1 to %(max)d steps.") % {"max": MAX_STEPS})
    for index, step in enumerate(spec.steps):
        prefix = f"steps.{index}."
        if not 1 <= step.wait_minutes <= MAX_WAIT_MINUTES:
            errors.add(
                prefix + "wait_minutes",
                _("From 1 to %(max)d minutes.") % {"max": MAX_WAIT_MINUTES},
            )
        if not (step.channels or step.users or step.schedules):
            errors.add(prefix + "channels", _("Page at least one channel, person or schedule."))
        errors.unknown(prefix + "channels", step.channels, step_channels(org))
        errors.unknown(prefix + "users", step.users, agency_people(org))
        errors.unknown(
            prefix + "schedules", step.schedules, OnCallSchedule.objects.filter(organization_id=org)
        )
    errors.unknown("clients", spec.clients, Client.objects.filter(organization_id=org))
    errors.unknown("sites", spec.sites, Site.objects.filter(client__organization_id=org))
    if errors.found:
        raise ValidationError(errors.found)


def save_policy(policy: EscalationPolicy, spec: PolicySpec) -> EscalationPolicy:
    """Check the whole spec, then write the policy, its steps and assignments in one go.

    1. Check everything (:func:`check_policy`); a refusal writes nothing.
    2. A new default takes the flag from the agency's previous default.
    3. Steps are replaced as a whole, in the spec's order.
    4. Each listed client and site is assigned to this policy (taken from another policy if
       it had one); this policy's other assignments are removed.
    """
    check_policy(policy, spec)
    try:
        with transaction.atomic():
            _write(policy, spec)
    except IntegrityError as exc:
        # A concurrent save took the name between the check and the write.
        raise ValidationError({"name": [_("Another policy has this name.")]}) from exc
    return policy


def _write(policy: EscalationPolicy, spec: PolicySpec) -> None:
    if spec.is_default:
        EscalationPolicy.objects.filter(
            organization_id=policy.organization_id, is_default=True
        ).exclude(pk=policy.pk).update(is_default=False)
    policy.name, policy.is_default, policy.repeat = spec.name.strip(), spec.is_default, spec.repeat
    policy.save()
    policy.steps.all().delete()
    for position, step in enumerate(spec.steps):
        saved = EscalationStep.objects.create(
            policy=policy, position=position, wait_minutes=step.wait_minutes
        )
        saved.channels.set(step.channels)
        saved.users.set(step.users)
        saved.schedules.set(step.schedules)
    PolicyAssignment.objects.filter(policy=policy, client__isnull=False).exclude(
        client_id__in=spec.clients
    ).delete()
    PolicyAssignment.objects.filter(policy=policy, site__isnull=False).exclude(
        site_id__in=spec.sites
    ).delete()
    for client_id in spec.clients:
        PolicyAssignment.objects.update_or_create(client_id=client_id, defaults={"policy": policy})
    for site_id in spec.sites:
        PolicyAssignment.objects.update_or_create(site_id=site_id, defaults={"policy": policy})


# --- personal channels -----------------------------------------------------------------------


def create_personal_channel(organization_id: int, user: User, name: str, url: str) -> Channel:
    """Add a personal channel (only escalation steps use it) for an owner or engineer.

    Refusals name their field: ``name`` (required, unique in the agency), ``url`` (a valid
    Apprise URL; the message never echoes it), ``user`` (not an agency person).
    """
    errors = _Errors()
    name = name.strip()
    if not agency_people(organization_id).filter(pk=user.pk).exists():
        errors.add("user", _("Only the agency's owners and engineers have personal channels."))
    if not name:
        errors.add("name", _("This field is required."))
    elif len(name) > NAME_MAX_CHARS:
        errors.add("name", _("At most %(limit)d characters.") % {"limit": NAME_MAX_CHARS})
    elif Channel.objects.filter(organization_id=organization_id, name=name).exists():
        errors.add("name", _("Another channel of the agency has this name."))
    try:
        url = validate_channel_url(url)
    except ValueError as exc:
        errors.add("url", str(exc))
    if errors.found:
        raise ValidationError(errors.found)
    try:
        with transaction.atomic():
            return Channel.objects.create(
                organization_id=organization_id, user=user, name=name, url=url
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"name": [_("Another channel of the agency has this name.")]}
        ) from exc


def personal_channels(user: User) -> QuerySet[Channel]:
    """A person's own channels (looked up by owner, never through the tenant scope)."""
    return Channel.objects.filter(user_id=user.pk).order_by("name", "pk")
