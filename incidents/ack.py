"""Signed one-click acknowledgement links, put in the alerts people are paged with.

A link carries, signed with the site's secret key (salted for this one use) and dated, the
incident's id, its agency's id, the incident's random ``ack_nonce`` and the channel it was sent
to. It works without signing in, for ``SITECARE_ACK_LINK_HOURS`` hours. Anything else — a
forged or tampered signature, an expired date, an id swapped for another incident, a link of a
deleted incident whose id came back — finds no incident, and the view answers 404 as for any
unknown address, so nothing can be learnt by guessing.

Links go only to the agency's side: personal channels and agency-wide channels. A client's own
channel never gets one, since client users do not acknowledge incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from incidents.models import Channel, Incident

ACK_SALT = "sitecare.incidents.ack-link"


@dataclass(frozen=True)
class AckLink:
    """A verified link: the incident it acknowledges and the channel it was sent to, if known."""

    incident: Incident
    channel: Channel | None


def ack_token(incident: Incident, channel: Channel | None = None) -> str:
    """The signed, dated token of an ack link for ``incident`` as sent to ``channel``."""
    payload: dict[str, Any] = {
        "i": incident.pk,
        "o": incident.monitor.site.client.organization_id,
        "n": incident.ack_nonce,
    }
    if channel is not None:
        payload["c"] = channel.pk
    return signing.dumps(payload, salt=ACK_SALT, compress=True)


def ack_url(incident: Incident, channel: Channel | None = None) -> str:
    """The absolute one-click link; "" for a client's own channel (clients do not ack)."""
    if channel is not None and channel.client_id is not None and channel.user_id is None:
        return ""
    path = reverse("front:incident_ack_link", kwargs={"token": ack_token(incident, channel)})
    return f"{settings.SITECARE_BASE_URL}{path}"


def max_age() -> timedelta:
    return timedelta(hours=settings.SITECARE_ACK_LINK_HOURS)


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def verify(token: str) -> AckLink | None:
    """The incident and channel of a valid token; None for anything forged, stale or foreign.

    1. The signature and date must hold (``signing.loads`` with the salt and max age).
    2. The payload must have the expected shape: integer ids, a string nonce.
    3. The incident must exist with that id, in that agency, with that nonce (compared in
       constant time); the channel, if named, must be the same agency's.
    """
    try:
        payload = signing.loads(token, salt=ACK_SALT, max_age=max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict):
        return None
    incident_id, organization_id = _int(payload.get("i")), _int(payload.get("o"))
    nonce = payload.get("n")
    if incident_id is None or organization_id is None or not isinstance(nonce, str):
        return None
    incident = (
        Incident.objects.select_related("monitor__site__client__organization", "acknowledged_by")
        .filter(pk=incident_id, monitor__site__client__organization_id=organization_id)
        .first()
    )
    if incident is None or not constant_time_compare(incident.ack_nonce, nonce):
        return None
    channel = None
    channel_id = _int(payload.get("c"))
    if channel_id is not None:
        channel = (
            Channel.objects.select_related("user")
            .filter(pk=channel_id, organization_id=organization_id)
            .first()
        )
    return AckLink(incident=incident, channel=channel)
