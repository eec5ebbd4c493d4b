"""Tags: an agency's coloured labels on monitors, one validation for every way in.

The web pages, the API and config as code name tags by their names; :func:`check_tag_name`
judges a name and :func:`resolve_names` turns names into the agency's tags (matching any
case), reporting every unknown one. The palette is fixed so that every tag stays readable:
white text on each colour has a WCAG AA contrast ratio of at least 4.5:1
(:func:`contrast_ratio`, checked by the tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field

from monitoring.models import Monitor, Tag, TagColour
from sitecare.lib.names import check_name
from tenancy.scoping import Scope

TAG_NAME_MAX = 50
# Background of each colour (white text on it); the CSS classes tag--<colour> use these.
PALETTE: dict[str, str] = {
    TagColour.SLATE: "#334155",
    TagColour.RED: "#b91c1c",
    TagColour.ORANGE: "#c2410c",
    TagColour.GREEN: "#15803d",
    TagColour.TEAL: "#0f766e",
    TagColour.BLUE: "#1d4ed8",
    TagColour.INDIGO: "#4338ca",
    TagColour.PURPLE: "#7e22ce",
    TagColour.PINK: "#be185d",
    TagColour.BROWN: "#854d0e",
}
TEXT_COLOUR = "#ffffff"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def check_tag_name(value: str) -> str:
    """A tag name without surrounding spaces; ValueError saying what is wrong otherwise."""
    name = check_name(value)
    if not name:
        raise ValueError(_("A tag needs a name."))
    if len(name) > TAG_NAME_MAX:
        raise ValueError(
            _("A tag name may be at most %(limit)d characters long.") % {"limit": TAG_NAME_MAX}
        )
    if "," in name:
        # Lists of tags are written with commas in search fields and messages.
        raise ValueError(_("A tag name cannot contain a comma."))
    return name


TagName = Annotated[str, Field(min_length=1), AfterValidator(check_tag_name)]


def name_key(name: str) -> str:
    """What two names must differ in: case is not enough (``Shop`` and ``shop`` are one tag)."""
    return name.strip().casefold()


def unknown_names(names: Iterable[str], known: Iterable[str]) -> list[str]:
    """The names (in their order, once each) that match none of ``known`` in any case."""
    keys = {name_key(name) for name in known}
    return list(dict.fromkeys(name for name in names if name_key(name) not in keys))


def unknown_tags_message(names: Sequence[str]) -> str:
    return _("No tag named %(names)s in this agency.") % {"names": ", ".join(names)}


def resolve_names(organization_id: int, names: Sequence[str]) -> list[Tag]:
    """The agency's tags of these names (any case); ValueError naming every unknown one."""
    tags = agency_tags(organization_id)
    by_key = {name_key(tag.name): tag for tag in tags}
    missing = unknown_names(names, by_key)
    if missing:
        raise ValueError(unknown_tags_message(missing))
    return list({by_key[name_key(name)].pk: by_key[name_key(name)] for name in names}.values())


def visible_tags(scope: Scope) -> QuerySet[Tag]:
    """The tags this user may read: the agency's for its members, and for a client user the
    tags their client's monitors carry (never the agency's whole list)."""
    if scope.is_agency:
        return scope.visible(Tag).order_by("name")
    tagged = Monitor.tags.through.objects.filter(monitor__in=scope.visible(Monitor))
    return Tag.objects.filter(pk__in=tagged.values("tag_id")).order_by("name")


def agency_tags(organization_id: int) -> QuerySet[Tag]:
    return Tag.objects.filter(organization_id=organization_id).order_by("name")


def set_tags(monitor: Monitor, tags: Sequence[Tag]) -> bool:
    """Give the monitor exactly these tags; True when that changed anything."""
    wanted = {tag.pk for tag in tags}
    current = set(monitor.tags.values_list("pk", flat=True))
    if wanted == current:
        return False
    with transaction.atomic():
        monitor.tags.set(list(tags))
    return True


def tag_names(monitor: Monitor) -> list[str]:
    """The monitor's tag names, sorted (from a prefetch when there is one)."""
    return sorted((tag.name for tag in monitor.tags.all()), key=name_key)
