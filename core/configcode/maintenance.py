"""Maintenance windows in config-as-code: how a client's windows are read, checked, shown, written.

A window is listed under its client (``maintenance:``) and matched within it by ``title``.
``starts`` is the first start on the site's wall clock, ``YYYY-MM-DD HH:MM`` without an offset
(for a client-wide window: on each site's clock), ``duration_minutes`` its length and ``repeat``
an RFC 5545 RRULE (empty: once). The values go through the window model's own checks
(``MaintenanceWindow.full_clean``, which reads the rule with ``incidents.recurrence``), the same
the web form and the API use; only the mapping of their fields to the file's names lives here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as ModelValidationError
from django.utils.translation import gettext as _
from pydantic import BeforeValidator, Field, ValidationError

from core.configcode.errors import ConfigIssue, Loc, issues_from_pydantic
from core.configcode.schema import Name, Slug, Spec
from incidents.models import MaintenanceWindow
from incidents.models.maintenance import MAX_DURATION_MINUTES

Values = dict[str, Any]
Entry = tuple[Loc, dict[str, Any]]

_LOCAL_START = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2})?)$")
# Model field → the file's key its errors are reported at (no key: the window itself).
_KEY_FOR_FIELD: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "description": ("description",),
    "start_date": ("starts",),
    "start_time": ("starts",),
    "duration_minutes": ("duration_minutes",),
    "rrule": ("repeat",),
    NON_FIELD_ERRORS: (),
}
# Filled by the reconciler, or not the file's business.
_NOT_FROM_FILE = ["client", "site", "created_by", "created_at", "updated_at"]


def _local_start(value: Any) -> datetime:
    """``2026-12-06 02:00`` (or a YAML timestamp without offset) as a naive wall-clock time."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(
                _("give the site's local time without an offset, like 2026-12-06 02:00")
            )
        return value
    if isinstance(value, date):
        raise ValueError(_("give the time too, like %(day)s 02:00") % {"day": value.isoformat()})
    match = _LOCAL_START.match(str(value).strip()) if isinstance(value, str) else None
    if match is not None:
        day, clock = match.groups()
        layout = "%Y-%m-%d %H:%M:%S" if clock.count(":") == 2 else "%Y-%m-%d %H:%M"
        try:
            return datetime.strptime(f"{day} {clock}", layout)
        except ValueError:
            pass
    raise ValueError(
        _(
            "%(value)s is not a local date and time: write YYYY-MM-DD HH:MM, like "
            "2026-12-06 02:00 (the site's wall clock, no offset)"
        )
        % {"value": value}
    )


def _none_is_blank(value: Any) -> Any:
    """``repeat:`` with nothing after it is YAML null: a one-off window."""
    return "" if value is None else value


Blank = BeforeValidator(_none_is_blank)


class WindowSpec(Spec):
    """A client's maintenance window, on one of its sites (``site``: a slug) or all of them."""

    title: Name
    site: Slug | None = None
    description: Annotated[str, Blank] = ""
    starts: Annotated[datetime, BeforeValidator(_local_start)]
    # The bounds of the model, the form and the API; checked here too, as a huge number would
    # overflow before the model's own checks could report it.
    duration_minutes: Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES)]
    repeat: Annotated[str, Blank] = ""


WINDOW_FIELDS = frozenset(WindowSpec.model_fields)


def format_start(local: datetime) -> str:
    """A wall-clock start as the file writes it: ``2026-12-06 02:00`` (seconds only if any)."""
    exact = local.second == 0 and local.microsecond == 0
    return local.isoformat(sep=" ", timespec="minutes" if exact else "auto")


def _model_issues(loc: Loc, exc: ModelValidationError) -> list[ConfigIssue]:
    return [
        ConfigIssue((*loc, *_KEY_FOR_FIELD.get(column, ())), message)
        for column, messages in exc.message_dict.items()
        for message in messages
    ]


def check_window(loc: Loc, item: dict[str, Any], sites: set[str]) -> Values | list[ConfigIssue]:
    """One window of the file as model values, or its issues.

    1. The schema (``WindowSpec``): fields, types, the start's form.
    2. ``site`` must be one of the client's sites in the file.
    3. The window model's own checks (lengths, duration, year, the rule and its expansion
       guard); the rule comes back in its stored form.
    """
    try:
        spec = WindowSpec.model_validate(item)
    except ValidationError as exc:
        return issues_from_pydantic(exc, loc, WINDOW_FIELDS)
    issues = []
    if spec.site is not None and spec.site not in sites:
        message = _("no site %(site)s among this client's sites") % {"site": spec.site}
        issues.append(ConfigIssue((*loc, "site"), message))
    values: Values = {
        "title": spec.title,
        "description": spec.description,
        "start_date": spec.starts.date(),
        "start_time": spec.starts.time(),
        "duration_minutes": spec.duration_minutes,
        "rrule": spec.repeat,
    }
    window = MaintenanceWindow(**values)
    try:
        window.full_clean(exclude=_NOT_FROM_FILE, validate_unique=False, validate_constraints=False)
    except ModelValidationError as exc:
        issues += _model_issues(loc, exc)
    if issues:
        return issues
    values["rrule"] = window.rrule
    values["site"] = spec.site
    return values


def title_key(title: str) -> str:
    """What a title is matched by: as the file reads it (surrounding spaces stripped)."""
    return title.strip()


def ambiguous_titles(agency: str, listed: Iterable[tuple[str, Entry]]) -> list[ConfigIssue]:
    """Listed windows whose title more than one stored window of their client has.

    ``listed`` is (client slug, (path, item)) for each window of the file. The file could
    not say which of them it means, so nothing is guessed: they must be renamed first.
    """
    entries = list(listed)
    if not entries:
        return []
    stored = MaintenanceWindow.objects.filter(client__organization__slug=agency)
    counts = Counter(
        (client, title_key(title)) for client, title in stored.values_list("client__slug", "title")
    )
    issues = []
    for client, (loc, item) in entries:
        title = item.get("title")
        count = counts[(client, title_key(str(title)))] if isinstance(title, str | int) else 0
        if count > 1:
            message = _(
                "%(count)d stored maintenance windows of this client are titled %(title)s: "
                "rename all but one in the web UI or the API first, so the file can tell them "
                "apart"
            ) % {"count": count, "title": title}
            issues.append(ConfigIssue((*loc, "title"), message))
    return issues


def window_view(values: Values) -> Values:
    """A window's model values (site as its slug) as the fields the file shows, title aside."""
    return {
        "site": values["site"],
        "description": values["description"],
        "starts": format_start(datetime.combine(values["start_date"], values["start_time"])),
        "duration_minutes": values["duration_minutes"],
        "repeat": values["rrule"],
    }


def stored_values(window: MaintenanceWindow, site: str | None) -> Values:
    """A stored window's model values, with ``site`` its site's slug."""
    return {
        "site": site,
        "description": window.description,
        "start_date": window.start_date,
        "start_time": window.start_time,
        "duration_minutes": window.duration_minutes,
        "rrule": window.rrule,
    }


def export_window(window: MaintenanceWindow) -> dict[str, Any]:
    """A window as the file writes it: empty site, description and rule left out."""
    data: dict[str, Any] = {"title": window.title}
    if window.site is not None:
        data["site"] = window.site.slug
    if window.description:
        data["description"] = window.description
    data["starts"] = format_start(window.local_start)
    data["duration_minutes"] = window.duration_minutes
    if window.rrule:
        data["repeat"] = window.rrule
    return data
