"""The public faces of a status page besides its HTML: the paths of its parts (on sitecare's
host or its custom domain), its JSON form, and the map of custom domains to pages.

The JSON holds exactly what the HTML shows, with components identified by their own ids.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from incidents.models import StatusPage
from incidents.statuspage import IncidentView, PageSummary

# How long the host names of custom domains are trusted before they are read again.
DOMAIN_CACHE_SECONDS = 30.0


# --- links and the JSON form -----------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """Paths of a page's public parts, under ``/status/<slug>/`` or a custom domain's root."""

    prefix: str
    json: str

    @classmethod
    def for_page(cls, page: StatusPage, *, on_custom_domain: bool) -> Links:
        if on_custom_domain:
            return cls(prefix="/", json="/status.json")
        return cls(prefix=f"/status/{page.slug}/", json=f"/status/{page.slug}.json")

    @property
    def page(self) -> str:
        return self.prefix

    @property
    def stylesheet(self) -> str:
        return self.prefix + "style.css"

    @property
    def subscribe(self) -> str:
        return self.prefix + "subscribe/"

    @property
    def atom(self) -> str:
        """The Atom feed of incidents and their public updates."""
        return self.prefix + "incidents.atom"

    @property
    def ical(self) -> str:
        """The iCalendar feed of scheduled maintenance."""
        return self.prefix + "maintenance.ics"

    def badge(self, component_id: int) -> str:
        return f"{self.prefix}badge/{component_id}.svg"

    def confirm(self, token: str) -> str:
        return f"{self.prefix}confirm/{token}/"

    def unsubscribe(self, token: str) -> str:
        return f"{self.prefix}unsubscribe/{token}/"


def public_origin(page: StatusPage) -> tuple[str, Links]:
    """Where the page is publicly read (for links in emails): its custom domain, else ours."""
    if page.custom_domain:
        return f"https://{page.custom_domain}", Links.for_page(page, on_custom_domain=True)
    return str(settings.SITECARE_BASE_URL), Links.for_page(page, on_custom_domain=False)


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _incident_json(view: IncidentView) -> dict[str, Any]:
    return {
        "title": view.title,
        "components": view.component_ids,
        "status": view.status_label,
        "started_at": _when(view.started_at),
        "resolved_at": _when(view.resolved_at),
        "updates": [
            {"status": u.status, "body": u.body, "posted_at": _when(u.posted_at)}
            for u in view.updates
        ],
    }


def as_public_json(summary: PageSummary, links: Links) -> dict[str, Any]:
    """The page as JSON: only what the HTML shows, with the same component ids."""
    page = summary.page
    return {
        "page": {
            "title": page.title,
            "url": links.page,
            "time_zone": summary.time_zone,
            "generated_at": _when(summary.generated_at),
        },
        "status": {"state": summary.state.value, "description": str(summary.state.label)},
        "components": [
            {
                "id": c.id,
                "name": c.name,
                "state": c.state.value,
                "uptime_90d": _rounded(c.uptime_percent),
                "badge": links.badge(c.id),
                "days": [
                    {"date": d.day.isoformat(), "uptime": _rounded(d.percent), "level": d.level}
                    for d in c.days
                ],
            }
            for c in summary.components
        ],
        "incidents": {
            "active": [_incident_json(i) for i in summary.active_incidents],
            "recent": [_incident_json(i) for i in summary.past_incidents],
        },
        "maintenance": [
            {
                "title": m.title,
                "description": m.description,
                "start": _when(m.start),
                "end": _when(m.end),
                "running": m.running,
            }
            for m in summary.maintenance
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --- custom domains --------------------------------------------------------------------------

_domains: tuple[float, dict[str, int]] = (0.0, {})


def page_for_domain(host: str) -> int | None:
    """The id of the page whose custom domain is ``host`` (lowercased, no port), or None.

    The map is read from the database at most every 30 seconds per process.
    """
    global _domains
    expires, pages = _domains
    if time.monotonic() >= expires:
        rows = StatusPage.objects.exclude(custom_domain="").values_list("custom_domain", "pk")
        pages = dict(rows)
        _domains = (time.monotonic() + DOMAIN_CACHE_SECONDS, pages)
    return pages.get(host)


def forget_domains() -> None:
    """Read the custom domains again on the next request (after a page is saved here)."""
    global _domains
    _domains = (0.0, {})
