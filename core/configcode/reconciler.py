"""The machinery of applying a document: what is stored, indexed by the names the file uses
(``Stored``), and one object's create-or-update-or-report step (``Reconciler``), with the
views that make a monitor and an allowlist comparable with the file.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from django.db import models

from core.configcode.report import (
    Action,
    ApplyReport,
    Change,
    ObjectKind,
    field_changes,
    redact_channel_url,
    show,
)
from incidents.models import Channel, MaintenanceWindow
from monitoring.logic import STATE_FIELDS
from monitoring.models import Monitor, Tag
from monitoring.spec import MODEL_FIELD_FOR_KEY, masked_value, secret_options
from monitoring.tags import name_key
from sites.models import Site
from sla.models import CarePlan, ClientPlan
from tenancy.models import Client, Organization

M = TypeVar("M", bound=models.Model)
View = dict[str, Any]
Plans = dict[str, CarePlan | None]  # by slug; None: created in a dry run

# Monitor columns under the names the file uses for them.
# Monitor column → definition key, for every common field but the name (the match key).
MONITOR_FIELDS = {attr: key for key, attr in MODEL_FIELD_FOR_KEY.items() if key != "name"}
CHANNEL_SECRETS = frozenset({"url"})


def show_masked_option(value: Any) -> str:
    """A secret monitor option in a diff: header names and the user name, values masked."""
    return show(masked_value(value))


def secrets_of(
    kind: ObjectKind, views: tuple[View, ...]
) -> tuple[frozenset[str], Callable[[Any], str]]:
    """The fields shown redacted, and how; a monitor's are those of its old and new kind."""
    if kind == ObjectKind.CHANNEL:
        return CHANNEL_SECRETS, redact_channel_url
    secrets: set[str] = set()
    if kind == ObjectKind.MONITOR:
        for view in views:
            secrets |= secret_options(str(view.get("kind")))
    return frozenset(secrets), show_masked_option


def allowlist_entries(text: str) -> list[str]:
    """The stored allowlist as normalised networks; comments and bad lines are not networks."""
    entries = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            entries.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            continue
    return entries


def monitor_view(values: Mapping[str, Any]) -> View:
    """A monitor's model values as the flat mapping the file writes."""
    view = {name: values[attr] for attr, name in MONITOR_FIELDS.items()}
    view.update(values.get("config") or {})
    return view


def stored_monitor_view(monitor: Monitor) -> View:
    return monitor_view({attr: getattr(monitor, attr) for attr in [*MONITOR_FIELDS, "config"]})


@dataclass
class Stored:
    """The agency's objects as stored, indexed the way the file names them."""

    clients: dict[str, Client] = field(default_factory=dict)
    sites: dict[int, dict[str, Site]] = field(default_factory=lambda: defaultdict(dict))
    monitors: dict[int, dict[str, Monitor]] = field(default_factory=lambda: defaultdict(dict))
    channels: dict[str, Channel] = field(default_factory=dict)
    plans: dict[str, CarePlan] = field(default_factory=dict)
    # Each client's plan history: client id → the step of each first day (None: since always).
    plan_steps: dict[int, dict[date | None, ClientPlan]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    windows: dict[int, list[MaintenanceWindow]] = field(default_factory=lambda: defaultdict(list))
    tags: dict[str, Tag] = field(default_factory=dict)  # by name key (case folded)

    @classmethod
    def load(cls, org: Organization | None) -> Stored:
        """Read everything in nine queries (none when the agency does not exist yet)."""
        stored = cls()
        if org is None:
            return stored
        stored.clients = {c.slug: c for c in Client.objects.filter(organization=org)}
        for site in Site.objects.filter(client__organization=org):
            stored.sites[site.client_id][site.slug] = site
        monitors = Monitor.objects.filter(site__client__organization=org).prefetch_related("tags")
        for monitor in monitors:
            stored.monitors[monitor.site_id][monitor.name] = monitor
        stored.channels = {c.name: c for c in Channel.objects.filter(organization=org)}
        stored.plans = {p.slug: p for p in CarePlan.objects.filter(organization=org)}
        steps = ClientPlan.objects.filter(client__organization=org).select_related("plan")
        for step in steps:
            stored.plan_steps[step.client_id][step.starts_on] = step
        for window in MaintenanceWindow.objects.filter(client__organization=org).order_by("pk"):
            stored.windows[window.client_id].append(window)
        stored.tags = {name_key(t.name): t for t in Tag.objects.filter(organization=org)}
        return stored

    def client_slug(self, client_id: int | None) -> str | None:
        if client_id is None:
            return None
        slugs = {c.pk: c.slug for c in self.clients.values()}
        return slugs.get(client_id, str(client_id))

    def site_slug(self, site_id: int | None) -> str | None:
        if site_id is None:
            return None
        slugs = {s.pk: s.slug for sites in self.sites.values() for s in sites.values()}
        return slugs.get(site_id, str(site_id))


@dataclass
class Reconciler:
    """Diffs the document against ``stored`` and, unless ``dry_run``, writes the changes."""

    report: ApplyReport
    stored: Stored = field(default_factory=Stored)

    def record(self, change: Change) -> None:
        self.report.changes.append(change)

    def sync(
        self,
        kind: ObjectKind,
        label: str,
        instance: M | None,
        create: Callable[[], M],
        current: Callable[[M], View],
        target: tuple[View, View],
    ) -> M | None:
        """Create or update one object; return it (None for a creation in a dry run).

        ``target`` is the wanted (view, write): ``view`` in the file's names, compared with
        ``current(instance)`` and shown; ``write`` the model attributes written when they differ.
        """
        view, write = target
        if instance is None:
            secrets, redact = secrets_of(kind, (view,))
            changes = field_changes({}, view, secrets, redact)
            self.record(Change(Action.CREATE, kind, label, changes))
            return None if self.report.dry_run else create()
        stored = current(instance)
        secrets, redact = secrets_of(kind, (stored, view))
        changes = field_changes(stored, view, secrets, redact)
        if not changes:
            self.report.unchanged += 1
            return instance
        self.record(Change(Action.UPDATE, kind, label, changes))
        if not self.report.dry_run:
            save_changed(instance, write)
        return instance

    def stale(self, kind: ObjectKind, label: str, instance: models.Model, note: str = "") -> None:
        """A stored object the file does not list: deleted with prune, else only reported."""
        if not self.report.prune:
            self.report.not_in_file.append(f"{kind.label} {label}")
            return
        self.record(Change(Action.DELETE, kind, label, note=note))
        if not self.report.dry_run:
            instance.delete()


def saved(parent: M | None) -> M:
    """The parent of an object being created; only a dry run leaves parents unsaved (None)."""
    if parent is None:
        raise RuntimeError("a parent object is missing outside a dry run")
    return parent


def save_changed(instance: models.Model, write: Mapping[str, Any]) -> None:
    """Save only the attributes whose value differs; never the monitor engine's columns."""
    changed = [attr for attr, value in write.items() if getattr(instance, attr) != value]
    if set(changed) & set(STATE_FIELDS):
        raise RuntimeError("configuration must never write a monitor's state columns")
    for attr in changed:
        setattr(instance, attr, write[attr])
    if not changed:
        return
    if isinstance(instance, Monitor | MaintenanceWindow):
        changed.append("updated_at")
    instance.save(update_fields=changed)
