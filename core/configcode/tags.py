"""Tags in config as code: the top-level ``tags:`` list (name and colour) and each monitor's
``tags: [names]``, validated with the file's paths, reconciled and exported.

A monitor's tag must be one the file lists (matched in any case), so a file says everything
its monitors need and applying it twice changes nothing. Tags are matched to stored ones by
name in any case; a stored tag the file does not list is reported, and deleted with prune.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from core.configcode.errors import ConfigIssue, Loc, format_path
from core.configcode.reconciler import Reconciler, saved
from core.configcode.report import ObjectKind
from core.configcode.schema import TagSpec
from monitoring.models import Monitor, Tag, TagColour
from monitoring.tags import check_tag_name, name_key, set_tags, tag_names
from tenancy.models import Organization

Entries = list[tuple[Loc, dict[str, Any]]]
Tags = dict[str, Tag | None]  # by name key; None: created in a dry run


def listed_tag_keys(data: Any) -> dict[str, Loc]:
    """The name keys of the file's ``tags:`` list, with where each is first named."""
    items = data.get("tags") if isinstance(data, dict) else None
    found: dict[str, Loc] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip():
            found.setdefault(name_key(name), ("tags", index))
    return found


def duplicate_tags(data: Any) -> list[ConfigIssue]:
    """Tag names the file lists twice, in any case (the database keeps them unique so)."""
    items = data.get("tags") if isinstance(data, dict) else None
    seen: dict[str, Loc] = {}
    issues = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        key, loc = name_key(name), ("tags", index)
        if key in seen:
            message = _(
                "duplicate tag name %(name)s (names differ in more than case), also at %(other)s"
            ) % {
                "name": name.strip(),
                "other": format_path((*seen[key], "name")),
            }
            issues.append(ConfigIssue((*loc, "name"), message))
        else:
            seen[key] = loc
    return issues


def monitor_tags(
    item: dict[str, Any], loc: Loc, listed: dict[str, Loc]
) -> tuple[list[str], list[ConfigIssue]]:
    """A monitor's ``tags`` as names (none when left out), and the issues at their paths."""
    names = item.get("tags", [])
    if names is None:
        return [], []
    if not isinstance(names, list):
        return [], [ConfigIssue((*loc, "tags"), _("must be a list of tag names"))]
    issues: list[ConfigIssue] = []
    cleaned: list[str] = []
    for index, name in enumerate(names):
        where = (*loc, "tags", index)
        if not isinstance(name, str):
            issues.append(ConfigIssue(where, _("must be text, a tag's name")))
            continue
        try:
            name = check_tag_name(name)
        except ValueError as exc:
            issues.append(ConfigIssue(where, str(exc)))
            continue
        if name_key(name) not in listed:
            message = _("no tag %(name)s in this file's tags list") % {"name": name}
            issues.append(ConfigIssue(where, message))
        cleaned.append(name)
    return cleaned, issues


def sync_tags(work: Reconciler, org: Organization | None, specs: list[TagSpec]) -> Tags:
    """Create or update the file's tags; return them by name key."""
    found: Tags = {}
    for spec in specs:
        key = name_key(spec.name)
        write = {"name": spec.name, "colour": spec.colour}
        found[key] = work.sync(
            ObjectKind.TAG,
            spec.name,
            work.stored.tags.get(key),
            _creator(org, write),
            lambda tag: {"name": tag.name, "colour": tag.colour},
            (dict(write), write),
        )
    return found


def _creator(org: Organization | None, write: dict[str, Any]) -> Callable[[], Tag]:
    return lambda: Tag.objects.create(organization=saved(org), **write)


def stale_tags(work: Reconciler, specs: list[TagSpec]) -> None:
    listed = {name_key(spec.name) for spec in specs}
    for key, tag in work.stored.tags.items():
        if key not in listed:
            work.stale(ObjectKind.TAG, tag.name, tag)


def tag_view(names: list[str], tags: Tags) -> dict[str, list[str]]:
    """A monitor's tags as shown in the diff (the stored spelling of each, sorted); nothing
    for a monitor without tags, so untagged monitors read as before tags existed."""
    spelled = {key: tag.name if tag is not None else "" for key, tag in tags.items()}
    shown = sorted({spelled.get(name_key(n)) or n for n in names}, key=name_key)
    return {"tags": shown} if shown else {}


def stored_tag_view(monitor: Monitor) -> dict[str, list[str]]:
    names = tag_names(monitor)
    return {"tags": names} if names else {}


def write_monitor_tags(monitor: Monitor, names: list[str], tags: Tags) -> None:
    """Give the monitor exactly the named tags (all listed in the file, so all exist now)."""
    set_tags(monitor, [saved(tags[name_key(name)]) for name in names])


def export_tags(org: Organization) -> list[dict[str, Any]]:
    """The agency's tags as the file lists them (the default colour left out)."""
    rows = []
    for tag in Tag.objects.filter(organization=org).order_by("name"):
        row: dict[str, Any] = {"name": tag.name}
        if tag.colour != TagColour.BLUE:
            row["colour"] = tag.colour
        rows.append(row)
    return rows
