"""Alert texts that agencies write themselves: plain ``{name}`` placeholders and nothing else.

No template engine is involved. A fixed set of names is replaced by text; everything else —
unknown names, ``{{`` and ``}}``, attribute or index access (``{monitor.__class__}``,
``{0}``), conversions and format specs (``{site!r}``, ``{site:>9}``), ``%(x)s`` — is left
exactly as written. Values are inserted in one pass, so a site named ``{monitor}`` stays
``{monitor}`` in the message. This module imports no models (the models use its validator).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from monitoring.failures import FailureClass

if TYPE_CHECKING:
    from incidents.models.core import Incident

PLACEHOLDERS: tuple[str, ...] = (
    "site",
    "client",
    "monitor",
    "url",
    "state",
    "reason",
    "message",
    "since",
    "duration",
    "flaps",
    "severity",
    "incident_url",
    "ack_url",
    "dedup_key",
)
_KNOWN = frozenset(PLACEHOLDERS)
# What is replaced: a known name in single braces. ``{{`` and ``}}`` are matched first so that
# ``{{site}}`` stays literal as a whole.
_TOKEN = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")
# What looks like an attempt at a placeholder, for validation: braces around a name-like run
# (``{"a": 1}`` in a JSON body does not start like a name, so it is not reported).
_ATTEMPT = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_][^{}\s\"']*)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with each known ``{name}`` replaced by its value; the rest left as is."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is not None and name in _KNOWN and name in values:
            return str(values[name])
        return match.group(0)

    return _TOKEN.sub(replace, template)


def unknown_placeholders(template: str) -> list[str]:
    """The ``{...}`` runs in the template that look like placeholders but are not known ones."""
    unknown: list[str] = []
    for match in _ATTEMPT.finditer(template):
        name = match.group(1)
        if name is not None and name not in _KNOWN and match.group(0) not in unknown:
            unknown.append(match.group(0))
    return unknown


def template_error(template: str) -> str | None:
    """The message refusing a template with unknown placeholders; None when it is fine."""
    unknown = unknown_placeholders(template)
    if not unknown:
        return None
    return _("unknown placeholder %(placeholders)s; the known ones are %(known)s") % {
        "placeholders": ", ".join(unknown),
        "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
    }


def validate_template(value: str) -> None:
    """The model fields' validator (Django attaches the error to the field it checks)."""
    error = template_error(value)
    if error:
        raise ValidationError(error, code="unknown_placeholder")


def check_template(value: str) -> str:
    """The same rule for pydantic models (API bodies, config as code): raise ValueError."""
    error = template_error(value)
    if error:
        raise ValueError(error)
    return value


def human_duration(seconds: float) -> str:
    """``1 h 5 min``, ``4 min 12 s`` or ``9 s``, in the active language."""
    hours, rest = divmod(int(timedelta(seconds=round(seconds)).total_seconds()), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def local_since(incident: Incident) -> str:
    """When the outage began, in the site's own time and naming that zone."""
    zone = incident.monitor.site.time_zone
    local_start = timezone.localtime(incident.opened_at, ZoneInfo(zone))
    # One unambiguous 24-hour form for every language: alerts are read at 3 a.m.
    return f"{local_start:%Y-%m-%d %H:%M:%S} ({zone})"


def _state_word(event: str, incident: Incident) -> str:
    if event == "opened" or (event != "resolved" and incident.state == "open"):
        return _("down")
    return _("up")


def placeholder_values(
    incident: Incident, event: str, *, dedup_key: str, ack_url: str = ""
) -> dict[str, str]:
    """The value of every placeholder for one alert, in the agency's language.

    ``ack_url`` is the one-click acknowledgement link of this alert's channel (computed by the
    caller with ``incidents.ack.ack_url``; empty where none is given, e.g. a client's channel).
    """
    monitor = incident.monitor
    site = monitor.site
    client = site.client
    with translation.override(client.organization.language):
        reason = FailureClass(incident.failure_class).label if incident.failure_class else ""
        return {
            "site": site.name,
            "client": client.name,
            "monitor": monitor.name,
            "url": monitor.url,
            "state": _state_word(event, incident),
            "reason": str(reason),
            "message": incident.message_text,
            "since": local_since(incident),
            "duration": human_duration(incident.duration_seconds),
            "flaps": str(incident.flap_count),
            "severity": str(incident.get_severity_display()),
            "incident_url": f"{settings.SITECARE_BASE_URL}/incidents/{incident.pk}/",
            "ack_url": ack_url,
            "dedup_key": dedup_key,
        }


def custom_texts(
    title_template: str, body_template: str, values: Mapping[str, str], built_in: tuple[str, str]
) -> tuple[str, str]:
    """A channel's own title and body where it has templates, the built-in texts elsewhere."""
    title, body = built_in
    if title_template:
        title = render(title_template, values)
    if body_template:
        body = render(body_template, values)
    # The outbox column holds 300 characters; a long site name must not fail the incident.
    return title[:300], body
