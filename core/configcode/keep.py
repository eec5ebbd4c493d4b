"""Fields the file leaves out keep their stored values.

The rule "objects missing from the file are kept" holds for fields too: an omitted field
keeps what is stored, a field the file states (an empty list and null included) changes it.
Before validation, each object of the file that matches a stored one (by the names the file
uses: the agency by slug, clients and plans by slug, sites by slug within their client,
monitors by name within their site, channels by name, maintenance windows by title, status
pages by slug) gets the stored values of the keys it omits, in the file's own form (the form
``export`` writes). Validation, the dry-run diff and the write then see one whole document,
so a combination the stored values make invalid is reported at its YAML path, and an omitted
field never shows in the diff.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from core.configcode.careplans import export_plan
from core.configcode.maintenance import export_window, title_key
from core.configcode.reconciler import allowlist_entries
from core.configcode.statuspages import status_page_data
from incidents.models import Channel, MaintenanceWindow, StatusComponent, StatusPage
from monitoring.models import Monitor
from monitoring.spec import COMMON_FIELDS, monitor_as_data
from sites.models import Site
from sla.models import CarePlan
from tenancy.models import Client, Organization

Item = dict[str, Any]


def _key(value: Any) -> str | None:
    return str(value).strip() if isinstance(value, str | int) else None


def _filled(item: Item, stored: Item, keys: Iterable[str] | None = None) -> Item:
    """``item`` with each key it omits taken from ``stored`` (only ``keys``, if given)."""
    allowed = set(stored) if keys is None else set(keys) & set(stored)
    return {**{k: v for k, v in stored.items() if k in allowed and k not in item}, **item}


def _items(container: Item, key: str) -> list[Any] | None:
    items = container.get(key)
    return items if isinstance(items, list) else None


def _fill_list(
    container: Item, key: str, match: str, stored: dict[str, Item], by: Callable[[str], str] = str
) -> None:
    """Fill every mapping of ``container[key]`` that matches a stored object by ``match``."""
    items = _items(container, key)
    if items is None:
        return
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = _key(item.get(match))
        found = stored.get(by(name)) if name is not None else None
        if found is not None:
            items[index] = _filled(item, found)


def agency_data(org: Organization) -> Item:
    """The agency's own fields as the file writes them."""
    return {
        "name": org.name,
        "network_allowlist": allowlist_entries(org.ssrf_allowlist),
        "alert_language": org.language,
        "flap_window_seconds": org.flap_window_seconds,
    }


def channel_data(channel: Channel, site_slug: str | None) -> Item:
    """A channel's fields as the file writes them (its URL in full: this never leaves memory)."""
    return {
        "name": channel.name,
        "url": channel.url,
        "enabled": channel.enabled,
        "site": site_slug,
        "min_severity": channel.min_severity,
        "title_template": channel.title_template,
        "body_template": channel.body_template,
    }


def monitor_data(monitor: Monitor, item: Item) -> Item:
    """A stored monitor's fields that may fill ``item``: all of them when the kind stays (an
    omitted kind keeps the stored one), only the common ones but the target when the file
    changes the kind (another kind's target and options mean nothing to the new one)."""
    data = monitor_as_data(monitor)
    data.setdefault("enabled", monitor.enabled)
    kind = item.get("kind", monitor.kind)
    if kind == monitor.kind:
        return data
    return {k: v for k, v in data.items() if k in COMMON_FIELDS and k not in ("url", "kind")}


@dataclass
class _Stored:
    """The agency's stored objects, read at once (a constant number of queries)."""

    clients: dict[str, Client] = field(default_factory=dict)
    sites: dict[int, dict[str, Site]] = field(default_factory=lambda: defaultdict(dict))
    monitors: dict[int, dict[str, Monitor]] = field(default_factory=lambda: defaultdict(dict))
    channels: list[Channel] = field(default_factory=list)
    windows: dict[int, dict[str, Item]] = field(default_factory=lambda: defaultdict(dict))
    pages: dict[int, dict[str, Item]] = field(default_factory=lambda: defaultdict(dict))

    @classmethod
    def load(cls, org: Organization) -> _Stored:
        stored = cls()
        stored.clients = {c.slug: c for c in Client.objects.filter(organization=org)}
        for site in Site.objects.filter(client__organization=org):
            stored.sites[site.client_id][site.slug] = site
        for monitor in Monitor.objects.filter(site__client__organization=org):
            stored.monitors[monitor.site_id][monitor.name] = monitor
        channels = Channel.objects.filter(organization=org).select_related("site")
        stored.channels = list(channels)
        windows = MaintenanceWindow.objects.filter(client__organization=org)
        for window in windows.select_related("site").order_by("pk"):
            stored.windows[window.client_id][title_key(window.title)] = export_window(window)
        components = StatusComponent.objects.select_related("monitor__site")
        pages = StatusPage.objects.filter(client__organization=org).prefetch_related(
            Prefetch("components", components.order_by("position", "pk"))
        )
        for page in pages:
            stored.pages[page.client_id][page.slug] = status_page_data(page)
        return stored


def _fill_sites(stored: _Stored, client_item: Item, client: Client) -> None:
    items = _items(client_item, "sites") or []
    sites = stored.sites[client.pk]
    for index, item in enumerate(items):
        site = sites.get(_key(item.get("slug")) or "") if isinstance(item, dict) else None
        if site is None:
            continue
        values = {"name": site.name, "url": site.url, "time_zone": site.time_zone}
        item = items[index] = _filled(item, values)
        monitors = stored.monitors[site.pk]
        for m_index, monitor_item in enumerate(_items(item, "monitors") or []):
            if not isinstance(monitor_item, dict):
                continue
            monitor = monitors.get(_key(monitor_item.get("name")) or "")
            if monitor is not None:
                filled = _filled(monitor_item, monitor_data(monitor, monitor_item))
                item["monitors"][m_index] = filled


def _channels_for(channels: list[Channel], owner: Client | None) -> dict[str, Item]:
    """Stored channels by name as a list of ``owner`` (None: the agency-wide list) would
    write them: a channel listed under another owner than before keeps its fields but its
    site, which belongs to the old owner."""
    found = {}
    for channel in channels:
        same_owner = channel.client_id == (owner.pk if owner is not None else None)
        site = channel.site.slug if channel.site is not None and same_owner else None
        found[channel.name] = channel_data(channel, site)
    return found


def _fill_clients(stored: _Stored, data: Item) -> None:
    _fill_list(data, "channels", "name", _channels_for(stored.channels, None))
    for item in _items(data, "clients") or []:
        if not isinstance(item, dict):
            continue
        client = stored.clients.get(_key(item.get("slug")) or "")
        if client is None:
            continue
        _fill_list(item, "channels", "name", _channels_for(stored.channels, client))
        item.setdefault("name", client.name)
        _fill_sites(stored, item, client)
        _fill_list(item, "maintenance", "title", stored.windows[client.pk], title_key)
        _fill_list(item, "status_pages", "slug", stored.pages[client.pk])


def fill_omitted(data: Any) -> Any:
    """The document with every omitted field of a stored object filled in (a copy; the
    stored objects are read in nine queries whatever their number)."""
    if not isinstance(data, dict) or not isinstance(data.get("agency"), dict):
        return data
    slug = _key(data["agency"].get("slug"))
    org = Organization.objects.filter(slug=slug).first() if slug else None
    if org is None:
        return data
    data = copy.deepcopy(data)
    data["agency"] = _filled(data["agency"], agency_data(org))
    plans = {p.slug: export_plan(p) for p in CarePlan.objects.filter(organization=org)}
    _fill_list(data, "plans", "slug", plans)
    _fill_clients(_Stored.load(org), data)
    return data
