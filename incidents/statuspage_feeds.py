"""A status page's feeds: an Atom feed of its incidents with their public updates (RFC 4287),
and an iCalendar feed of its scheduled maintenance (RFC 5545, times in UTC).

Both show exactly what the page shows (``incidents.statuspage``): incidents titled by the
page's components, only the public updates staff posted, maintenance of the page's sites.
Entry and event identifiers are derived from the page and the moment, never from database
ids, so a feed says nothing about how many incidents or windows the agency has elsewhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents.models import StatusPage
from incidents.oncall_feed import CRLF, escape_text, fold
from incidents.statuspage import (
    IncidentView,
    MaintenanceView,
    components_of,
    incidents_of,
    maintenance_of,
)

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ICAL_CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class FeedContent:
    """What both feeds show: the page's open and recent incidents and its maintenance (read
    as the page reads them, without its 90 days of uptime bars)."""

    page: StatusPage
    generated_at: datetime
    incidents: list[IncidentView]
    maintenance: list[MaintenanceView]


def feed_content(page: StatusPage, now: datetime) -> FeedContent:
    components = components_of(page)
    active, past = incidents_of(components, now)
    return FeedContent(page, now, [*active, *past], maintenance_of(page, components, now))


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def incident_updated(incident: IncidentView) -> datetime:
    """When the incident last changed in public: its latest update, resolution or start."""
    moments = [incident.started_at, *(u.posted_at for u in incident.updates)]
    if incident.resolved_at is not None:
        moments.append(incident.resolved_at)
    return max(moments)


def _incident_text(incident: IncidentView) -> str:
    """The entry's body: its state, then each public update (oldest first), plain text."""
    lines = [f"{incident.status_label}."]
    for update in incident.updates:
        stamp = update.posted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"{stamp} · {update.get_status_display()}: {update.body}")
    if incident.resolved_at is not None:
        stamp = incident.resolved_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(_("Resolved at %(when)s.") % {"when": stamp})
    return "\n\n".join(lines)


def atom_feed(content: FeedContent, page_url: str, feed_url: str) -> str:
    """The page's open and recent incidents as an Atom document, newest change first.

    1. Each incident is one entry, identified by the page and its start (stable while the
       incident lives), updated at its latest public change.
    2. The feed is updated at the newest entry's change (Django's generator takes the
       latest entry date; now when there is none).
    """
    page = content.page
    incidents = sorted(content.incidents, key=incident_updated, reverse=True)
    feed = Atom1Feed(
        title=_("%(page)s: incidents") % {"page": page.title},
        link=page_url,
        description=page.intro,
        language=get_language(),
        feed_url=feed_url,
        feed_guid=f"urn:sitecare:status:{_digest('page', page.pk, page.created_at)}",
    )
    for incident in incidents:
        feed.add_item(
            title=f"{incident.title} ({incident.status_label})",
            link=page_url,
            description=_incident_text(incident),
            unique_id=f"urn:sitecare:incident:{_digest(page.pk, incident.started_at)}",
            unique_id_is_permalink=False,
            pubdate=incident.started_at,
            updateddate=incident_updated(incident),
        )
    return feed.writeString("utf-8")


def _event(uid: str, item: MaintenanceView, stamp: datetime, url: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(item.start)}",
        f"DTEND:{_utc(item.end)}",
        f"SUMMARY:{escape_text(item.title)}",
    ]
    if item.description:
        lines.append(f"DESCRIPTION:{escape_text(item.description)}")
    lines += [f"URL:{url}", "TRANSP:OPAQUE", "STATUS:CONFIRMED", "END:VEVENT"]
    return lines


def maintenance_calendar(content: FeedContent, page_url: str) -> str:
    """The page's running and coming maintenance as a VCALENDAR (UTC times, CRLF, folded).

    Each occurrence is one event whose UID stays the same between fetches while its start
    and title do.
    """
    page = content.page
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//sitecare//status page maintenance//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(_('%(page)s: maintenance') % {'page': page.title})}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for item in content.maintenance:
        uid = f"maintenance-{_digest(page.pk, item.title, item.start)}@sitecare"
        lines += _event(uid, item, content.generated_at, page_url)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
