"""The agency's SLA overview: ``/sla/overview``, every client's standing in its current window.

For the agency's owners and engineers; client users get 404, as on the other agency-only
lists (a client user reads their own SLA at ``/clients/{id}/sla``). Figures have the format of
the client's own SLA answer (``sla.overview_data``).
"""

# No "from __future__ import annotations": ninja reads these signatures at runtime.

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from api.errors import ErrorOut
from api.paging import paged
from api.routers.plans import agency_scope
from sla.overview import overview
from sla.overview_data import StandingData, standing_data
from tenancy.models import Client

router = Router(tags=["SLA"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut}


@router.get("/overview", response={200: list[StandingData], **ERRORS})
@paged()
def sla_overview(request: HttpRequest) -> list[StandingData]:
    """Every client's current window, the riskiest first: clients whose budget is used up,
    then by the share of the budget consumed, then by name; clients without a plan in force
    come last (availability only). Each figure is the one ``/clients/{id}/sla`` gives now."""
    now = timezone.now()
    clients = agency_scope(request).visible(Client).order_by("name", "pk")
    return [standing_data(standing) for standing in overview(clients, now=now)]
