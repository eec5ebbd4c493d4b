"""The one scoping helper: what a user may see, used by every view and API endpoint.

Each tenant-owned model names its way to the tenant in two class attributes:
``TENANT_ORG_PATH`` (lookup to the organization id) and ``TENANT_CLIENT_PATH`` (lookup to the
client id, or ``None`` when rows may belong to the agency as a whole). An agency member sees
every row of their organization; a client user sees only rows of their client. Anything else is
"not found": a client user never learns that another client exists (404, never 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models
from django.http import Http404

from tenancy.models import Client, Membership, Organization, Role

M = TypeVar("M", bound=models.Model)


class NotPermitted(Exception):
    """The user can see the object but may not change it (maps to 403)."""


@dataclass(frozen=True)
class Scope:
    """What one user may reach. Build it with :func:`scope_for`."""

    organization_id: int | None
    client_id: int | None
    role: str | None

    @property
    def is_agency(self) -> bool:
        return self.role in (Role.OWNER, Role.ENGINEER)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_edit(self) -> bool:
        """Agency members configure clients, sites, monitors, channels; client users read."""
        return self.is_agency

    def require_edit(self) -> None:
        if not self.can_edit:
            raise NotPermitted

    def visible(self, source: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
        """Filter a model or queryset down to the rows this user may see."""
        qs: models.QuerySet[M] = (
            source.objects.all() if isinstance(source, type) else source  # type: ignore[attr-defined]
        )
        model: Any = qs.model
        if self.organization_id is None:
            return qs.none()
        if model is Organization:
            return qs.filter(pk=self.organization_id)
        org_path: str = model.TENANT_ORG_PATH
        qs = qs.filter(**{org_path: self.organization_id})
        if self.is_agency:
            return qs
        client_path: str | None = getattr(model, "TENANT_CLIENT_PATH", None)
        if client_path is None:
            return qs.none()
        return qs.filter(**{client_path: self.client_id})

    def get(self, source: type[M] | models.QuerySet[M], **lookup: Any) -> M:
        """Return one visible object, or raise Http404 (for absent and foreign alike)."""
        try:
            return self.visible(source).get(**lookup)
        except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
            raise Http404("not found") from exc

    def organization(self) -> Organization:
        if self.organization_id is None:
            raise Http404("not found")
        return Organization.objects.get(pk=self.organization_id)

    def check_client(self, client: Client | None) -> None:
        """Refuse (404) a client this scope does not reach, e.g. as a form's target."""
        if client is None:
            if not self.is_agency:
                raise Http404("not found")
            return
        if client.organization_id != self.organization_id or (
            not self.is_agency and client.pk != self.client_id
        ):
            raise Http404("not found")


NOBODY = Scope(organization_id=None, client_id=None, role=None)


def scope_for(user: Any) -> Scope:
    """The scope of a (possibly anonymous) user; users without a membership see nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NOBODY
    try:
        membership: Membership = user.membership
    except Membership.DoesNotExist:
        return NOBODY
    return Scope(
        organization_id=membership.organization_id,
        client_id=membership.client_id,
        role=membership.role,
    )
