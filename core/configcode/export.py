"""Writing an agency's configuration back as the YAML that ``apply`` reads.

Channel URLs, secret monitor options (HTTP credentials, header values) and heartbeat ping
tokens are secrets. Unless ``include_secrets`` is asked for, each is written as a placeholder
(``${SITECARE_CHANNEL_<NAME>}``, ``${SITECARE_MONITOR_<CLIENT>_<SITE>_<MONITOR>_<FIELD>}``; a
ping token's with an empty default, ``${…_TOKEN:-}``, so that applying the file without it
keeps the stored token) and the header lists the variables to set, so an exported file can be
committed without leaking a token. Any other ``${`` in the data is escaped as ``$${`` so that
applying the export gives back exactly what was stored.
"""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from typing import Any

import yaml
from django.utils import timezone
from django.utils.translation import gettext as _

from core.configcode.careplans import export_assignment, export_plan
from core.configcode.loader import escape
from core.configcode.maintenance import export_window
from core.configcode.reconciler import allowlist_entries
from core.configcode.statuspages import pages_with_components, status_page_data
from core.configcode.tags import export_tags
from incidents.models import Channel, MaintenanceWindow
from incidents.models.core import Severity
from monitoring.models import CheckKind, Monitor
from monitoring.spec import NAMING_KEYS, monitor_as_data, secret_options
from monitoring.tags import tag_names
from sites.models import Site
from sla.models import CarePlan, ClientPlan
from sla.plan_history import plan_histories
from tenancy.models import Client, Organization

PLACEHOLDER_PREFIX = "SITECARE_CHANNEL_"
MONITOR_PREFIX = "SITECARE_MONITOR_"
_NOT_NAME = re.compile(r"[^A-Z0-9]+")
# Letters NFKD does not split into a base letter and an accent.
_PLAIN = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"})


def _variable_part(text: str, fallback: str) -> str:
    """``Dyżury Słack`` → ``DYZURY_SLACK``: ASCII letters, digits and underscores only."""
    ascii_name = (
        unicodedata.normalize("NFKD", text.translate(_PLAIN)).encode("ascii", "ignore").decode()
    )
    return _NOT_NAME.sub("_", ascii_name.upper()).strip("_") or fallback


def _unique(base: str, taken: set[str]) -> str:
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    taken.add(name)
    return name


def placeholder_name(channel_name: str, taken: set[str]) -> str:
    """``Ops webhook`` → ``SITECARE_CHANNEL_OPS_WEBHOOK`` (with a number when already taken)."""
    return _unique(PLACEHOLDER_PREFIX + _variable_part(channel_name, "CHANNEL"), taken)


def monitor_placeholder_name(parts: list[str], taken: set[str]) -> str:
    """(client, site, monitor, option…) → ``SITECARE_MONITOR_ACME_SHOP_HOME_BEARER_TOKEN``."""
    base = MONITOR_PREFIX + "_".join(_variable_part(part, "X") for part in parts)
    return _unique(base, taken)


def _escaped(data: Any) -> Any:
    """Every string with ``${`` escaped, so stored text is never taken for a reference."""
    if isinstance(data, str):
        return escape(data)
    if isinstance(data, list):
        return [_escaped(item) for item in data]
    if isinstance(data, dict):
        return {key: _escaped(value) for key, value in data.items()}
    return data


class _Exporter:
    """Builds the document; remembers the placeholders it wrote for the header."""

    def __init__(self, include_secrets: bool) -> None:
        self.include_secrets = include_secrets
        self.placeholders: list[tuple[str, str]] = []
        self._taken: set[str] = set()
        self.assignments: dict[int, ClientPlan | None] = {}  # each client's current step

    def channel(self, channel: Channel) -> dict[str, Any]:
        if self.include_secrets:
            url = escape(channel.url)
        else:
            variable = placeholder_name(channel.name, self._taken)
            self.placeholders.append((variable, channel.name))
            url = "${" + variable + "}"
        data: dict[str, Any] = {"name": escape(channel.name), "url": url}
        if not channel.enabled:
            data["enabled"] = False
        if channel.site is not None:
            data["site"] = channel.site.slug
        if channel.min_severity != Severity.MINOR:
            data["min_severity"] = channel.min_severity
        for field in ("title_template", "body_template"):
            if getattr(channel, field):
                data[field] = escape(getattr(channel, field))
        return data

    def secret(self, parts: list[str], label: str) -> str:
        """A placeholder for one secret value, remembered for the header."""
        variable = monitor_placeholder_name(parts, self._taken)
        self.placeholders.append((variable, label))
        return "${" + variable + "}"

    def monitor(self, client: Client, site: Site, monitor: Monitor) -> dict[str, Any]:
        """A monitor's definition; secret option values become placeholders unless asked."""
        data: dict[str, Any] = _escaped(monitor_as_data(monitor))
        tags = tag_names(monitor)
        if tags:
            data["tags"] = _escaped(tags)
        if self.include_secrets:
            return data
        where = [client.slug, site.slug, monitor.name]
        label = f"{client.slug}/{site.slug}/{monitor.name}"
        if monitor.kind == CheckKind.HEARTBEAT:
            # The ping token is a secret. Unset, the placeholder is empty, and an empty
            # heartbeat target keeps the stored token (or makes one for a new monitor).
            variable = self.secret([*where, "token"], f"{label}: ping token")
            data["url"] = variable[:-1] + ":-}"
        for key in secret_options(monitor.kind) & data.keys():
            value = data[key]
            if not isinstance(value, dict):
                data[key] = self.secret([*where, key], f"{label}: {key}")
                continue
            # Header names and the user name stay readable; only their values are secret.
            data[key] = {
                name: item
                if name in NAMING_KEYS
                else self.secret([*where, key, name], f"{label}: {key}.{name}")
                for name, item in value.items()
            }
        return data

    def site(self, client: Client, site: Site) -> dict[str, Any]:
        data: dict[str, Any] = {"slug": site.slug, "name": site.name}
        if site.url:
            data["url"] = site.url
        if site.time_zone != Site._meta.get_field("time_zone").default:
            data["time_zone"] = site.time_zone
        data = _escaped(data)
        ordered = site.monitors.order_by("name").prefetch_related("tags")
        monitors = [self.monitor(client, site, m) for m in ordered]
        if monitors:
            data["monitors"] = monitors
        return data

    def client(self, client: Client, channels: list[Channel]) -> dict[str, Any]:
        data: dict[str, Any] = {"slug": client.slug, "name": escape(client.name)}
        data.update(export_assignment(self.assignments.get(client.pk)))
        if channels:
            data["channels"] = [self.channel(ch) for ch in channels]
        sites = [self.site(client, site) for site in client.sites.order_by("slug")]
        if sites:
            data["sites"] = sites
        windows = MaintenanceWindow.objects.filter(client=client).select_related("site")
        maintenance = [_escaped(export_window(w)) for w in windows.order_by("title", "pk")]
        if maintenance:
            data["maintenance"] = maintenance
        pages = [_escaped(status_page_data(page)) for page in pages_with_components(client)]
        if pages:
            data["status_pages"] = pages
        return data

    def document(self, org: Organization) -> dict[str, Any]:
        agency: dict[str, Any] = {"slug": org.slug, "name": escape(org.name)}
        networks = allowlist_entries(org.ssrf_allowlist)
        if networks:
            agency["network_allowlist"] = networks
        agency["alert_language"] = org.language
        if org.flap_window_seconds != Organization._meta.get_field("flap_window_seconds").default:
            agency["flap_window_seconds"] = org.flap_window_seconds
        channels = list(
            Channel.objects.filter(organization=org).select_related("site").order_by("name")
        )
        data: dict[str, Any] = {"version": 1, "agency": agency}
        tags = export_tags(org)
        if tags:
            data["tags"] = _escaped(tags)
        agency_wide = [self.channel(ch) for ch in channels if ch.client_id is None]
        if agency_wide:
            data["channels"] = agency_wide
        plans = CarePlan.objects.filter(organization=org).order_by("slug")
        if plans:
            data["plans"] = [_escaped(export_plan(plan)) for plan in plans]
        stored_clients = list(Client.objects.filter(organization=org).order_by("slug"))
        histories = plan_histories([client.pk for client in stored_clients])
        now = timezone.now()
        self.assignments = {pk: history.current(now).step for pk, history in histories.items()}
        clients = [
            self.client(client, [ch for ch in channels if ch.client_id == client.pk])
            for client in stored_clients
        ]
        if clients:
            data["clients"] = clients
        return data


def _header(org: Organization, exporter: _Exporter) -> str:
    """Comment lines: what the file is, how to apply it, which variables hold the secrets."""
    paragraphs = [
        _("sitecare configuration of agency %(slug)s, written by sitecare export.")
        % {"slug": json.dumps(org.slug)},
        _("Apply it with: sitecare apply FILE (add --dry-run to see the changes first)."),
    ]
    if exporter.include_secrets:
        paragraphs.append(
            _(
                "This file contains secrets (channel URLs, monitor credentials, ping tokens): "
                "keep it private, never commit it."
            )
        )
    elif exporter.placeholders:
        paragraphs.append(
            _(
                "Channel URLs, monitor credentials and ping tokens are secrets and are not "
                "written here. Set these environment variables to them before applying (a "
                "ping token left unset keeps the stored one):"
            )
        )
    lines = [line for text in paragraphs for line in textwrap.wrap(text, width=96)]
    if not exporter.include_secrets:
        # Names are shown JSON-quoted in ASCII: no line break (\n, U+2028) may end the comment.
        lines += [f"  {var}  ({json.dumps(name)})" for var, name in exporter.placeholders]
    return "".join(f"# {line}\n" for line in lines)


def export_config(organization: Organization, include_secrets: bool = False) -> str:
    """The agency's tags, care plans, clients, sites, monitors, maintenance windows and
    channels as YAML for ``apply``."""
    exporter = _Exporter(include_secrets)
    data = exporter.document(organization)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return _header(organization, exporter) + body
