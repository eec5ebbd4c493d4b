"""A person's on-call shifts as an iCalendar feed (RFC 5545), fetched without a session.

Calendar apps cannot sign in, so the feed's address carries a token signed with the site's
secret key (salted for this one use). The token also carries a digest of the user's password
hash: changing the password gives a new address and turns the old one into a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from incidents.models import OnCallSchedule
from incidents.oncall import shifts_of, with_timetable
from tenancy.scoping import scope_for

FEED_SALT = "sitecare.incidents.oncall-feed"
FEED_PAST = timedelta(weeks=4)
FEED_AHEAD = timedelta(weeks=26)
MAX_LINE_OCTETS = 75
CRLF = "\r\n"


def _password_digest(user: User) -> str:
    return salted_hmac(FEED_SALT, user.password).hexdigest()[:16]


def feed_token(user: User) -> str:
    """The secret part of the user's feed address."""
    return signing.dumps([user.pk, _password_digest(user)], salt=FEED_SALT)


def feed_user(token: str) -> User | None:
    """The agency person a feed token belongs to; None for a forged, stale or foreign token."""
    try:
        user_id, digest = signing.loads(token, salt=FEED_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first() if type(user_id) is int else None
    if user is None or not isinstance(digest, str):
        return None
    if not constant_time_compare(digest, _password_digest(user)):
        return None
    return user if scope_for(user).is_agency else None


# --- RFC 5545 text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped; controls dropped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(c for c in value if c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F))


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never splitting a character.

    Each continuation starts with one space, which counts towards its 75 octets.
    """
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = " ", 1, MAX_LINE_OCTETS
        current += char
        size += width
    pieces.append(current)
    return CRLF.join(pieces)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_text(name: str, events: Iterable[CalendarEvent], stamp: datetime) -> str:
    """A VCALENDAR of the events (times in UTC), CRLF line ends, folded lines."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//sitecare//on-call//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(event.uid)}",
            f"DTSTAMP:{_utc(stamp)}",
            f"DTSTART:{_utc(event.start)}",
            f"DTEND:{_utc(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def feed_calendar(user: User, now: datetime) -> str:
    """The user's shifts in every schedule of their agency, from 4 weeks ago to 26 ahead.

    1. The schedules the user's scope sees, with their rows; the window starts and ends at a
       UTC midnight, so a shift cut by its edge keeps its UID through the day's fetches.
    2. The user's merged shifts in each, as events whose UID stays the same between fetches
       while the shift's start does.
    3. Texts in the user's language (the feed is fetched without a session).
    """
    schedules = with_timetable(scope_for(user).visible(OnCallSchedule))
    mine = shifts_of(user, schedules, _midnight(now - FEED_PAST), _midnight(now + FEED_AHEAD))
    membership = getattr(user, "membership", None)
    language = (membership.language if membership else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        events = [
            CalendarEvent(
                uid=f"oncall-{s.schedule.pk}-{user.pk}-{_utc(s.start)}@sitecare",
                start=s.start,
                end=s.end,
                summary=_("On call: %(schedule)s") % {"schedule": s.schedule.name},
            )
            for s in mine
        ]
        name = _("On call: %(person)s") % {"person": user.get_username()}
    return calendar_text(name, events, now)
