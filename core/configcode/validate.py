"""Validation of a whole document: schema, monitors and uniqueness, every error collected."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as ModelValidationError
from django.utils.translation import gettext as _
from pydantic import ValidationError

from core.configcode.errors import (
    ConfigError,
    ConfigIssue,
    Loc,
    format_path,
    issues_from_pydantic,
    locate,
)
from core.configcode.keep import fill_omitted
from core.configcode.loader import parse_yaml, substitute
from core.configcode.maintenance import ambiguous_titles, check_window
from core.configcode.schema import PLAN_FIELDS, SCHEMA_FIELDS, Document, PlanSpec, ValidConfig
from core.configcode.statuspages import check_status_pages
from core.configcode.tags import duplicate_tags, listed_tag_keys, monitor_tags
from monitoring.checks import OPTIONS
from monitoring.spec import COMMON_FIELDS, MonitorDefinition, parse_monitor
from sitecare.lib.netpolicy import IPNetwork
from sla.models import CarePlan
from sla.plan_data import plan_values, term_for_column

Entry = tuple[Loc, dict[str, Any]]


def _entries(container: Any, key: str, loc: Loc) -> list[Entry]:
    """The mapping items of the list ``container[key]``; anything else is the schema's to report."""
    if not isinstance(container, dict):
        return []
    items = container.get(key)
    if not isinstance(items, list):
        return []
    return [((*loc, key, i), item) for i, item in enumerate(items) if isinstance(item, dict)]


def _sites(data: Any) -> Iterator[tuple[int, int, Entry]]:
    """Every site mapping with the indexes of its client and of itself."""
    for client_loc, client in _entries(data, "clients", ()):
        for site_loc, site in _entries(client, "sites", client_loc):
            yield int(client_loc[-1]), int(site_loc[-1]), (site_loc, site)


def _unique(entries: list[Entry], field: str) -> list[ConfigIssue]:
    """An issue for each entry whose ``field`` repeats an earlier one, naming both paths."""
    seen: dict[str, Loc] = {}
    issues = []
    for loc, item in entries:
        value = item.get(field)
        if not isinstance(value, str | int):
            continue
        key = str(value).strip()
        if key in seen:
            message = _("duplicate %(field)s %(value)s, also at %(other)s") % {
                "field": field,
                "value": key,
                "other": format_path((*seen[key], field)),
            }
            issues.append(ConfigIssue((*loc, field), message))
        else:
            seen[key] = loc
    return issues


def _duplicates(data: Any) -> list[ConfigIssue]:
    """Slugs and names that must be unique: clients, sites per client, monitors per site,
    channels across the whole agency (the database keeps channel names unique per agency)."""
    clients = _entries(data, "clients", ())
    issues = _unique(clients, "slug")
    channels = _entries(data, "channels", ())
    for client_loc, client in clients:
        issues += _unique(_entries(client, "sites", client_loc), "slug")
        channels += _entries(client, "channels", client_loc)
    for _ci, _si, (site_loc, site) in _sites(data):
        issues += _unique(_entries(site, "monitors", site_loc), "name")
    return issues + _unique(channels, "name") + _unique(_entries(data, "plans", ()), "slug")


def _channel_sites(data: Any) -> list[ConfigIssue]:
    """A channel's ``site`` must be one of its client's sites in the file (none agency-wide)."""
    issues = []
    for loc, channel in _entries(data, "channels", ()):
        if channel.get("site") is not None:
            message = _(
                "only a client's channel can be limited to a site: list the channel under "
                "that site's client"
            )
            issues.append(ConfigIssue((*loc, "site"), message))
    for client_loc, client in _entries(data, "clients", ()):
        slugs = {str(site.get("slug")) for _loc, site in _entries(client, "sites", client_loc)}
        for loc, channel in _entries(client, "channels", client_loc):
            site = channel.get("site")
            if site is not None and str(site) not in slugs:
                message = _("no site %(site)s among this client's sites") % {"site": site}
                issues.append(ConfigIssue((*loc, "site"), message))
    return issues


def _allowlist(data: Any) -> list[IPNetwork]:
    """The file's allowlist as far as it is valid (its bad entries are reported elsewhere)."""
    agency = data.get("agency") if isinstance(data, dict) else None
    entries = agency.get("network_allowlist") if isinstance(agency, dict) else None
    networks: list[IPNetwork] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            continue
    return networks


def _monitor_fields(item: Mapping[str, Any]) -> set[str]:
    kind = item.get("kind", "http")
    model = OPTIONS.get(kind) if isinstance(kind, str) else None
    known = set(COMMON_FIELDS) | {"tags"}
    return known | (set(model.model_fields) if model is not None else set())


Monitors = dict[tuple[int, int], list[MonitorDefinition]]
MonitorTags = dict[tuple[int, int], list[list[str]]]


def _parse_monitors(data: Any) -> tuple[Monitors, MonitorTags, list[ConfigIssue]]:
    """Each site's monitors through ``parse_monitor`` with the file's allowlist, and their
    ``tags`` (names of the file's tags) apart."""
    allowlist = _allowlist(data)
    listed = listed_tag_keys(data)
    parsed: Monitors = {}
    tagged: MonitorTags = {}
    issues: list[ConfigIssue] = []
    for ci, si, (site_loc, site) in _sites(data):
        definitions = parsed.setdefault((ci, si), [])
        names = tagged.setdefault((ci, si), [])
        for loc, item in _entries(site, "monitors", site_loc):
            if not isinstance(item.get("kind", ""), str):
                # parse_monitor looks the kind up in a dict: a list here would crash it.
                issues.append(ConfigIssue((*loc, "kind"), _("must be text, like http")))
                continue
            tags, tag_issues = monitor_tags(item, loc, listed)
            issues += tag_issues
            fields = {key: value for key, value in item.items() if key != "tags"}
            try:
                definitions.append(parse_monitor(fields, allowlist))
            except ValidationError as exc:
                issues += issues_from_pydantic(exc, loc, _monitor_fields(item))
            names.append(tags)
    return parsed, tagged, issues


def _check_plan(loc: Loc, values: dict[str, Any]) -> list[ConfigIssue]:
    """The care plan model's own checks (field limits, the calendar it builds), at file paths.

    ``values`` are normalised in place by the model (hours, closed dates, credit tiers).
    """
    plan = CarePlan(**values)
    try:
        plan.clean_fields(exclude=["organization"])
        plan.clean()
    except ModelValidationError as exc:
        return [
            ConfigIssue(loc if column == NON_FIELD_ERRORS else (*loc, *term_for_column(column)), m)
            for column, messages in exc.message_dict.items()
            for m in messages
        ]
    values.update({name: getattr(plan, name) for name in values})
    return []


def _parse_plans(data: Any) -> tuple[list[dict[str, Any]], list[ConfigIssue]]:
    """Each care plan through ``PlanSpec``, then the model's checks, as model values."""
    plans: list[dict[str, Any]] = []
    issues: list[ConfigIssue] = []
    for loc, item in _entries(data, "plans", ()):
        try:
            spec = PlanSpec.model_validate(item)
        except ValidationError as exc:
            issues += issues_from_pydantic(exc, loc, PLAN_FIELDS)
            continue
        values = plan_values(spec.model_dump())
        found = _check_plan(loc, values)
        issues += found
        if not found:
            plans.append(values)
    return plans, issues


def _stored_plan_slugs(data: Any) -> set[str]:
    """The slugs of the care plans the file's agency already has (none for a new agency)."""
    agency = data.get("agency") if isinstance(data, dict) else None
    slug = agency.get("slug") if isinstance(agency, dict) else None
    if not isinstance(slug, str):
        return set()
    found = CarePlan.objects.filter(organization__slug=slug.strip())
    return set(found.values_list("slug", flat=True))


def _plan_references(data: Any) -> list[ConfigIssue]:
    """A client's ``plan`` must name a plan of the file or of the agency; its fee and start
    day mean nothing without one."""
    listed = {str(plan.get("slug")).strip() for _loc, plan in _entries(data, "plans", ())}
    stored: set[str] | None = None
    issues = []
    for loc, client in _entries(data, "clients", ()):
        plan = client.get("plan")
        if plan is None:
            for key in ("monthly_fee", "plan_starts_on"):
                if client.get(key) is not None:
                    message = _("applies to the client's care plan: give plan too")
                    issues.append(ConfigIssue((*loc, key), message))
            continue
        if not isinstance(plan, str) or plan.strip() in listed:
            continue  # a malformed value is the schema's to report
        stored = _stored_plan_slugs(data) if stored is None else stored
        if plan.strip() not in stored:
            message = _("no care plan %(plan)s in this file or in the agency") % {"plan": plan}
            issues.append(ConfigIssue((*loc, "plan"), message))
    return issues


def _parse_windows(data: Any) -> tuple[dict[int, list[dict[str, Any]]], list[ConfigIssue]]:
    """Each client's maintenance windows through ``check_window``, titles unique per client
    and not ambiguous among the client's stored windows."""
    windows: dict[int, list[dict[str, Any]]] = {}
    issues: list[ConfigIssue] = []
    listed: list[tuple[str, Entry]] = []
    for client_loc, client in _entries(data, "clients", ()):
        sites = {str(s.get("slug")).strip() for _l, s in _entries(client, "sites", client_loc)}
        entries = _entries(client, "maintenance", client_loc)
        found = windows.setdefault(int(client_loc[-1]), [])
        for loc, item in entries:
            checked = check_window(loc, item, sites)
            if isinstance(checked, list):
                issues += checked
            else:
                found.append(checked)
        issues += _unique(entries, "title")
        listed += [(str(client.get("slug")).strip(), entry) for entry in entries]
    agency = data.get("agency") if isinstance(data, dict) else None
    slug = agency.get("slug") if isinstance(agency, dict) else None
    if isinstance(slug, str):
        issues += ambiguous_titles(slug.strip(), listed)
    return windows, issues


def _under(loc: Loc, prefixes: list[Loc]) -> bool:
    return any(loc[: len(prefix)] == prefix for prefix in prefixes)


def validate_data(data: Any, skip: list[Loc] | None = None) -> ValidConfig | list[ConfigIssue]:
    """Validate parsed data as a whole; return the valid configuration or every issue.

    1. The top level must be a mapping.
    2. The schema (pydantic) reports unknown fields, missing and malformed values.
    3. Monitors are validated by ``parse_monitor`` with the allowlist given in the same file;
       care plans by ``PlanSpec`` and the care plan model; maintenance windows by
       ``check_window`` and the window model.
    4. Slugs, names and titles that must be unique are checked; a client's plan must exist;
       status pages' components must name monitors of the file.
    Before all this, each stored object's fields the file omits are filled in with their
    stored values (``core.configcode.keep``): an omitted field keeps its value.
    Issues under a path in ``skip`` (values whose substitution failed) are dropped: the
    substitution error already names them.
    """
    if not isinstance(data, dict):
        return [ConfigIssue((), _("the file must be a mapping with agency, channels, clients"))]
    data = fill_omitted(data)
    issues: list[ConfigIssue] = []
    document: Document | None = None
    try:
        document = Document.model_validate(data)
    except ValidationError as exc:
        issues += issues_from_pydantic(exc, (), SCHEMA_FIELDS)
    monitors, monitor_tags_, monitor_issues = _parse_monitors(data)
    plans, plan_issues = _parse_plans(data)
    windows, window_issues = _parse_windows(data)
    issues += monitor_issues + plan_issues + window_issues + _duplicates(data)
    issues += (
        _channel_sites(data)
        + _plan_references(data)
        + check_status_pages(data)
        + duplicate_tags(data)
    )
    issues = [issue for issue in issues if not _under(issue.loc, skip or [])]
    if issues or document is None:
        return issues
    return ValidConfig(
        document=document,
        monitors=monitors,
        monitor_tags=monitor_tags_,
        plans=plans,
        windows=windows,
    )


def validate_text(
    text: str, *, source: str = "<string>", environ: Mapping[str, str] | None = None
) -> ValidConfig:
    """Parse, substitute and validate a document; raise ``ConfigError`` listing every issue.

    1. Parse the YAML (a syntax error stops here: nothing else can be trusted).
    2. Substitute ``${ENV}`` references in values.
    3. Validate the whole document.
    4. Locate each issue in the file (line and column) and sort them by position.
    """
    parsed = parse_yaml(text)
    if parsed.issues:
        raise ConfigError(parsed.issues, source)
    if parsed.data is None:
        raise ConfigError([ConfigIssue((), _("the file is empty"))], source)
    data, issues, failed = substitute(parsed.data, os.environ if environ is None else environ)
    result = validate_data(data, skip=failed)
    if isinstance(result, ValidConfig) and not issues:
        return result
    issues += result if isinstance(result, list) else []
    located = locate(issues, parsed.marks)
    located.sort(key=lambda i: (i.line is None, i.line or 0, i.column or 0))
    raise ConfigError(located, source)
