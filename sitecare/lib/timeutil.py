"""Time zone helpers shared by models, forms, the API and config as code."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def time_zone_error(value: str) -> str | None:
    """The message for a name that is not an IANA time zone, or None when it is one."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return _("%(zone)s is not a time zone (like Europe/Warsaw)") % {"zone": value}
    return None


def known_time_zone(value: str) -> str:
    """Pydantic validator (API inputs, config-as-code): the name, or ValueError when unknown."""
    message = time_zone_error(value)
    if message:
        raise ValueError(message)
    return value


def validate_time_zone(value: str) -> None:
    """Django validator: raise ValidationError for an unknown time zone."""
    message = time_zone_error(value)
    if message:
        raise ValidationError(message)
