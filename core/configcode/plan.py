"""Bringing the database in line with a validated document: diff, then (unless dry run) write.

Objects are matched by what the file names them by: the agency by slug, clients by slug, sites
by slug within their client, monitors by name within their site, maintenance windows by title
within their client, channels by name within the agency. Only fields whose shown value differs
are written (``update_fields``), so a second apply of the same file writes nothing, and the
engine's state columns are never touched.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.configcode.careplans import (
    assignment_view,
    plan_view,
    wanted_assignment_view,
    write_assignment,
)
from core.configcode.maintenance import stored_values, title_key, window_view
from core.configcode.reconciler import (
    Plans,
    Reconciler,
    Stored,
    View,
    allowlist_entries,
    monitor_view,
    saved,
    stored_monitor_view,
)
from core.configcode.report import ApplyReport, ObjectKind
from core.configcode.schema import AgencySpec, ChannelSpec, ClientSpec, SiteSpec, ValidConfig
from core.configcode.statuspages import MonitorIndex, reconcile_status_pages
from core.configcode.tags import (
    Tags,
    stale_tags,
    stored_tag_view,
    sync_tags,
    tag_view,
    write_monitor_tags,
)
from incidents.models import Channel, MaintenanceWindow
from monitoring.models import Monitor
from monitoring.pauses import Actor, record_created, set_enabled
from monitoring.spec import MonitorDefinition
from sites.models import Site
from sla.models import CarePlan
from tenancy.models import Client, Organization


def _agency(work: Reconciler, spec: AgencySpec) -> Organization | None:
    view = {
        "name": spec.name,
        "network_allowlist": list(spec.network_allowlist),
        "alert_language": spec.alert_language,
        "flap_window_seconds": spec.flap_window_seconds,
    }
    write = {
        "name": spec.name,
        "ssrf_allowlist": "\n".join(spec.network_allowlist),
        "language": spec.alert_language,
        "flap_window_seconds": spec.flap_window_seconds,
    }
    return work.sync(
        ObjectKind.AGENCY,
        spec.slug,
        Organization.objects.filter(slug=spec.slug).first(),
        lambda: Organization.objects.create(slug=spec.slug, **write),
        lambda org: {
            "name": org.name,
            "network_allowlist": allowlist_entries(org.ssrf_allowlist),
            "alert_language": org.language,
            "flap_window_seconds": org.flap_window_seconds,
        },
        (view, write),
    )


def _client(
    work: Reconciler, org: Organization | None, spec: ClientSpec, plans: Plans
) -> Client | None:
    """Create or update a client and the step of its plan history the file describes (shown
    as the client's fields; a client without ``plan`` leaves its history alone)."""
    write = {"name": spec.name}
    steps = work.stored.plan_steps

    def current(client: Client) -> View:
        view: View = {"name": client.name}
        if spec.plan is not None:
            view.update(assignment_view(steps[client.pk].get(spec.plan_starts_on)))
        return view

    wanted: View = {"name": spec.name}
    if spec.plan is not None:
        wanted.update(wanted_assignment_view(spec))
    client = work.sync(
        ObjectKind.CLIENT,
        spec.slug,
        work.stored.clients.get(spec.slug),
        lambda: Client.objects.create(organization=saved(org), slug=spec.slug, **write),
        current,
        (wanted, write),
    )
    if client is not None and not work.report.dry_run and spec.plan is not None:
        stored = steps[client.pk].get(spec.plan_starts_on)
        write_assignment(client, stored, plans.get(spec.plan), spec)
    return client


def _plans(work: Reconciler, org: Organization | None, config: ValidConfig) -> Plans:
    """Create or update the file's care plans; return every plan by slug (the agency's too:
    a client may name a plan the file does not list)."""
    found: Plans = dict(work.stored.plans)
    for values in config.plans:
        slug = values["slug"]
        write = {name: value for name, value in values.items() if name != "slug"}
        found[slug] = work.sync(
            ObjectKind.PLAN,
            slug,
            work.stored.plans.get(slug),
            partial(CarePlan.objects.create, organization=org, slug=slug, **write),
            plan_view,
            (plan_view(CarePlan(slug=slug, **write)), write),
        )
    return found


def _stale_plans(work: Reconciler, config: ValidConfig) -> None:
    """Stored plans neither listed nor named by a listed client: reported, or with prune
    deleted; a plan still in some client's plan history once the file is applied is kept
    (deleting it would rewrite the windows that plan judged), and said so."""
    listed = {values["slug"] for values in config.plans}
    listed |= {client.plan for client in config.document.clients if client.plan is not None}
    in_use = _plans_in_use(work, config)
    for slug, plan in work.stored.plans.items():
        if slug in listed:
            continue
        users = in_use.get(plan.pk)
        if users and work.report.prune:
            note = _("kept: in the plan history of %(clients)s") % {"clients": ", ".join(users)}
            work.report.not_in_file.append(f"{ObjectKind.PLAN.label} {slug} ({note})")
            continue
        work.stale(ObjectKind.PLAN, slug, plan)


def _plans_in_use(work: Reconciler, config: ValidConfig) -> dict[int, list[str]]:
    """Plan id → the slugs of the clients whose history has it once the file is applied
    (a step the file describes takes the file's plan; a pruned client's history goes)."""
    specs = {spec.slug: spec for spec in config.document.clients}
    users: dict[int, list[str]] = defaultdict(list)
    for slug, client in sorted(work.stored.clients.items()):
        spec = specs.get(slug)
        if spec is None and work.report.prune:
            continue
        for day, step in work.stored.plan_steps[client.pk].items():
            rewritten = spec is not None and spec.plan is not None and spec.plan_starts_on == day
            if step.plan_id is not None and not rewritten and slug not in users[step.plan_id]:
                users[step.plan_id].append(slug)
    return users


def _site(work: Reconciler, client: Client | None, label: str, spec: SiteSpec) -> Site | None:
    write = {"name": spec.name, "url": spec.url, "time_zone": spec.time_zone}
    stored = work.stored.sites[client.pk].get(spec.slug) if client is not None else None
    return work.sync(
        ObjectKind.SITE,
        label,
        stored,
        lambda: Site.objects.create(client=saved(client), slug=spec.slug, **write),
        lambda site: {"name": site.name, "url": site.url, "time_zone": site.time_zone},
        (dict(write), write),
    )


def _monitors(
    work: Reconciler,
    site: Site | None,
    label: str,
    definitions: list[MonitorDefinition],
    tagging: tuple[list[list[str]], Tags],
) -> dict[str, Monitor | None]:
    """Create or update the site's monitors; the stored ones the file drops are stale.

    ``enabled`` is diffed with the rest but written by ``monitoring.pauses``, which records
    the pause or resume with the file as the actor; ``tags`` (each monitor's names, and the
    file's tags by name key) too, written as the monitor's tags.
    """
    stored = work.stored.monitors[site.pk] if site is not None else {}
    actor = Actor.config(work.report.source)
    found: dict[str, Monitor | None] = {}
    names, tags = tagging
    for index, definition in enumerate(definitions):
        values = definition.model_fields_for(stored.get(definition.common.name))
        name = values.pop("name")
        write = {attr: value for attr, value in values.items() if attr != "enabled"}
        wanted_tags = names[index] if index < len(names) else []
        monitor = work.sync(
            ObjectKind.MONITOR,
            f"{label}/{name}",
            stored.get(name),
            partial(_new_monitor, site, name, values, actor),
            lambda m: {**stored_monitor_view(m), **stored_tag_view(m)},
            ({**monitor_view(values), **tag_view(wanted_tags, tags)}, write),
        )
        found[name] = monitor
        if monitor is None or work.report.dry_run:
            continue
        if monitor.enabled != values["enabled"]:
            set_enabled(monitor, values["enabled"], actor)
        write_monitor_tags(monitor, wanted_tags, tags)
    listed = {d.common.name for d in definitions}
    for name, monitor in stored.items():
        if name not in listed:
            work.stale(ObjectKind.MONITOR, f"{label}/{name}", monitor)
    return found


def _new_monitor(site: Site | None, name: str, values: dict[str, Any], actor: Actor) -> Monitor:
    monitor = Monitor.objects.create(site=saved(site), name=name, **values)
    record_created(monitor, actor)
    return monitor


def _windows(
    work: Reconciler,
    client: Client | None,
    spec: ClientSpec,
    windows: list[dict[str, Any]],
    sites: dict[tuple[str, str], Site | None],
) -> None:
    """Create or update the client's maintenance windows; the stored ones the file drops are
    stale (validation made sure each listed title matches at most one stored window)."""
    stored = {title_key(w.title): w for w in work.stored.windows[client.pk]} if client else {}
    for values in windows:
        title, slug = values["title"], values["site"]
        site = sites.get((spec.slug, slug)) if slug is not None else None
        write = {k: v for k, v in values.items() if k not in ("title", "site")}
        write["site_id"] = site.pk if site is not None else None
        work.sync(
            ObjectKind.WINDOW,
            f"{spec.slug}/{title}",
            stored.get(title_key(title)),
            partial(MaintenanceWindow.objects.create, client=client, title=title, **write),
            lambda w: window_view(stored_values(w, work.stored.site_slug(w.site_id))),
            (window_view(values), write),
        )
    listed = {title_key(values["title"]) for values in windows}
    for window in work.stored.windows[client.pk] if client else []:
        if title_key(window.title) not in listed:
            work.stale(ObjectKind.WINDOW, f"{spec.slug}/{window.title}", window)


def _stale_sites(work: Reconciler, client: Client | None, spec: ClientSpec) -> None:
    listed = {site.slug for site in spec.sites}
    stored = work.stored.sites[client.pk] if client is not None else {}
    for slug, site in stored.items():
        if slug not in listed:
            count = len(work.stored.monitors[site.pk])
            note = ngettext("with its %(n)d monitor", "with its %(n)d monitors", count) % {
                "n": count
            }
            work.stale(ObjectKind.SITE, f"{spec.slug}/{slug}", site, note if count else "")


def _channel(
    work: Reconciler,
    org: Organization | None,
    spec: ChannelSpec,
    owner: tuple[str | None, Client | None, Site | None],
) -> None:
    """Create or update one channel; ``owner`` is its client slug, client and site (or None)."""
    slug, client, site = owner
    texts = {
        "min_severity": spec.min_severity,
        "title_template": spec.title_template,
        "body_template": spec.body_template,
    }
    view = {"client": slug, "site": spec.site, "url": spec.url, "enabled": spec.enabled, **texts}
    write = {
        "client_id": client.pk if client else None,
        "site_id": site.pk if site else None,
        "url": spec.url,
        "enabled": spec.enabled,
        **texts,
    }
    work.sync(
        ObjectKind.CHANNEL,
        spec.name,
        work.stored.channels.get(spec.name),
        lambda: Channel.objects.create(organization=saved(org), name=spec.name, **write),
        lambda ch: {
            "client": work.stored.client_slug(ch.client_id),
            "site": work.stored.site_slug(ch.site_id),
            "url": ch.url,
            "enabled": ch.enabled,
            "min_severity": ch.min_severity,
            "title_template": ch.title_template,
            "body_template": ch.body_template,
        },
        (view, write),
    )


def _channels(
    work: Reconciler,
    org: Organization | None,
    config: ValidConfig,
    clients: dict[str, Client | None],
    sites: dict[tuple[str, str], Site | None],
) -> None:
    """Agency-wide channels, then each client's; stored channels the file drops are stale."""
    document = config.document
    listed: list[tuple[ChannelSpec, str | None]] = [(spec, None) for spec in document.channels]
    listed += [(spec, c.slug) for c in document.clients for spec in c.channels]
    for spec, slug in listed:
        client = clients.get(slug) if slug else None
        site = sites.get((slug, spec.site)) if slug and spec.site else None
        _channel(work, org, spec, (slug, client, site))
    names = {spec.name for spec, _slug in listed}
    for name, channel in work.stored.channels.items():
        if name not in names:
            work.stale(ObjectKind.CHANNEL, name, channel)


def _stale_clients(work: Reconciler, config: ValidConfig) -> None:
    listed = {client.slug for client in config.document.clients}
    for slug, client in work.stored.clients.items():
        if slug in listed:
            continue
        sites = work.stored.sites[client.pk]
        monitors = sum(len(work.stored.monitors[site.pk]) for site in sites.values())
        note = _("with its %(sites)d sites and %(monitors)d monitors") % {
            "sites": len(sites),
            "monitors": monitors,
        }
        work.stale(ObjectKind.CLIENT, slug, client, note if sites else "")


def reconcile(config: ValidConfig, report: ApplyReport) -> None:
    """Diff the document against the database, writing unless the report is a dry run.

    1. The agency (created when missing), then the agency's stored objects, read at once.
    2. Tags and care plans (before the monitors and clients that name them).
    3. Each client with its plan, its sites, each site's monitors, its status pages (after
       the monitors they show), its maintenance windows; stale monitors, pages, windows and
       sites of listed clients and sites.
    4. Channels (after clients, which they may belong to); stale channels.
    5. Stale clients (a channel may just have moved away from one), then stale plans (last:
       a client may just have moved to another plan), then stale tags.
    The caller runs this in one transaction.
    """
    work = Reconciler(report)
    org = _agency(work, config.document.agency)
    work.stored = Stored.load(org)
    tags = sync_tags(work, org, config.document.tags)
    plans = _plans(work, org, config)
    clients: dict[str, Client | None] = {}
    sites: dict[tuple[str, str], Site | None] = {}
    for ci, client_spec in enumerate(config.document.clients):
        client = _client(work, org, client_spec, plans)
        clients[client_spec.slug] = client
        monitors: MonitorIndex = {}
        for si, site_spec in enumerate(client_spec.sites):
            label = f"{client_spec.slug}/{site_spec.slug}"
            site = _site(work, client, label, site_spec)
            sites[(client_spec.slug, site_spec.slug)] = site
            tagging = (config.monitor_tags.get((ci, si), []), tags)
            found = _monitors(work, site, label, config.monitors.get((ci, si), []), tagging)
            monitors.update({(site_spec.slug, name): m for name, m in found.items()})
        reconcile_status_pages(work, client, list(client_spec.status_pages), monitors)
        # Before stale sites: a window may move off a site that is about to be deleted.
        _windows(work, client, client_spec, config.windows.get(ci, []), sites)
        _stale_sites(work, client, client_spec)
    _channels(work, org, config, clients, sites)
    _stale_clients(work, config)
    _stale_plans(work, config)
    stale_tags(work, config.document.tags)
