"""The REST API under /api/v1/: routers per resource, OpenAPI at /api/v1/openapi.json and
interactive docs at /api/v1/docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from api import errors
from api.auth import API_AUTH
from api.openapi import LocalSwagger, SitecareAPI
from api.routers import (
    channels,
    clients,
    escalation,
    incidents,
    maintenance,
    me,
    monitors,
    oncall,
    plans,
    sites,
    sla,
    sla_overview,
    statuspages,
    tags,
    tokens,
)

api = SitecareAPI(
    docs=LocalSwagger(),
    title="sitecare API",
    version="1",
    description=(
        "Clients, sites, monitors, alert channels, incidents, care plans and SLAs of one agency, "
        "scoped like the web UI. Authenticate with `Authorization: Bearer <token>`: create "
        "a token on [your profile page, under API tokens]({tokens_page}) (its value is shown "
        "once), or through `POST /api/v1/tokens` while signed in."
    ),
    auth=API_AUTH,
    urls_namespace="api",
)
errors.install(api)
api.add_router("/clients", clients.router)
api.add_router("/clients", sla.router)
api.add_router("/sla", sla_overview.router)
api.add_router("/plans", plans.router)
api.add_router("/sites", sites.router)
api.add_router("/monitors", monitors.router)
api.add_router("/tags", tags.router)
api.add_router("/channels", channels.router)
api.add_router("/incidents", incidents.router)
api.add_router("/maintenance-windows", maintenance.router)
api.add_router("/oncall", oncall.router)
api.add_router("/escalation-policies", escalation.router)
api.add_router("/status-pages", statuspages.router)
api.add_router("/tokens", tokens.router)
api.add_router("/me/channels", escalation.personal_router)
api.add_router("/me", me.router)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.urls),
    re_path(r"^.*$", errors.not_found_response, name="api-not-found"),
]
