"""Who the caller is: their role and, for a client user, their client."""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from django.http import HttpRequest
from ninja import Router

from api.auth import caller, scope
from api.schemas import MeOut, NamedRef
from tenancy.models import Client

router = Router(tags=["me"])


@router.get("", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    sc = scope(request)
    org = sc.organization() if sc.organization_id is not None else None
    client = sc.get(Client, pk=sc.client_id) if sc.client_id is not None else None
    return MeOut(
        username=caller(request).get_username(),
        role=sc.role,
        organization=NamedRef(id=org.pk, name=org.name) if org else None,
        client=NamedRef(id=client.pk, name=client.name) if client else None,
    )
