"""Status pages in config-as-code: a client's ``status_pages:``, checked, diffed, written, exported.

A page is matched by its slug within its client. Its components name monitors by their identity
in the file (``site`` slug and monitor ``name``) and give each a public name; the file lists
them in the order shown. The branding is the model's (accent colour, shown agency name, https
logo address), ``custom_domain`` is an optional host name, ``subscriptions`` says whether
readers may subscribe by email, ``published`` whether the page is served at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as ModelValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.configcode.errors import ConfigIssue, Loc, format_path
from core.configcode.reconciler import Reconciler, saved
from core.configcode.report import ObjectKind
from incidents.models import StatusComponent, StatusPage
from incidents.models.statuspage import DEFAULT_ACCENT, normal_host
from monitoring.models import Monitor
from sitecare.lib.names import check_name
from tenancy.models import Client

View = dict[str, Any]
# The page's columns the file writes under the same names (components and its slug aside).
PAGE_FIELDS = (
    "title",
    "intro",
    "custom_domain",
    "accent_color",
    "agency_name",
    "logo_url",
    "published",
    "subscriptions",
)
_COLUMN = {"subscriptions": "allow_subscriptions"}


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", coerce_numbers_to_str=True, str_strip_whitespace=True, frozen=True
    )


class ComponentSpec(_Spec):
    """A monitor shown on the page: its site's slug and its name in the file, a public name."""

    site: Annotated[str, Field(min_length=1, max_length=100)]
    monitor: Annotated[str, Field(min_length=1, max_length=200)]
    # A public name: the same rules as every name shown to others (sitecare.lib.names).
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name)]


class StatusPageSpec(_Spec):
    slug: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[-a-zA-Z0-9_]+$")]
    title: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name)]
    intro: str = ""
    custom_domain: str = ""
    accent_color: str = DEFAULT_ACCENT
    agency_name: str = ""
    logo_url: str = ""
    published: bool = False
    subscriptions: bool = True
    components: list[ComponentSpec] = []

    def columns(self) -> dict[str, Any]:
        """The page's model values (normalised as the model saves them)."""
        values = {_COLUMN.get(name, name): getattr(self, name) for name in PAGE_FIELDS}
        values["custom_domain"] = normal_host(values["custom_domain"])
        values["accent_color"] = values["accent_color"].lower()
        return values

    def view(self) -> View:
        """The page as the diff shows it: its fields, then its components one line each."""
        view: View = {name: getattr(self, name) for name in PAGE_FIELDS}
        view["custom_domain"] = normal_host(self.custom_domain)
        view["accent_color"] = self.accent_color.lower()
        view["components"] = [f"{c.site}/{c.monitor} = {c.name}" for c in self.components]
        return view


STATUS_PAGE_FIELDS = frozenset(
    name for model in (StatusPageSpec, ComponentSpec) for name in model.model_fields
)


def stored_view(page: StatusPage, components: list[StatusComponent]) -> View:
    """A stored page as the diff shows it (components read with their monitor and site)."""
    view: View = {name: getattr(page, _COLUMN.get(name, name)) for name in PAGE_FIELDS}
    view["components"] = [f"{c.monitor.site.slug}/{c.monitor.name} = {c.name}" for c in components]
    return view


def status_page_data(page: StatusPage) -> dict[str, Any]:
    """A page as the file writes it (export, and the values an omitted field keeps)."""
    data: dict[str, Any] = {"slug": page.slug, "title": page.title}
    for name in PAGE_FIELDS[1:]:
        value = getattr(page, _COLUMN.get(name, name))
        default = StatusPageSpec.model_fields[name].default
        if value != default:
            data[name] = value
    # Read through page.components.all(), so a prefetch (in position order) serves it.
    components = sorted(page.components.all(), key=lambda c: (c.position, c.pk))
    data["components"] = [
        {"site": c.monitor.site.slug, "monitor": c.monitor.name, "name": c.name} for c in components
    ]
    return data


def pages_with_components(client: Client) -> QuerySet[StatusPage]:
    """The client's pages by slug, their components read with them (two queries)."""
    components = StatusComponent.objects.select_related("monitor__site")
    return client.status_pages.order_by("slug").prefetch_related(
        Prefetch("components", components.order_by("position", "pk"))
    )


def _pages(data: Any) -> Iterator[tuple[Loc, dict[str, Any], dict[str, Any]]]:
    """Every status page mapping with its path and its client's mapping."""
    clients = data.get("clients") if isinstance(data, dict) else None
    for ci, client in enumerate(clients if isinstance(clients, list) else []):
        pages = client.get("status_pages") if isinstance(client, dict) else None
        for pi, page in enumerate(pages if isinstance(pages, list) else []):
            if isinstance(page, dict):
                yield ("clients", ci, "status_pages", pi), page, client


def _monitor_names(client: dict[str, Any]) -> dict[str, set[str]]:
    """Site slug → the names of its monitors in the file."""
    found: dict[str, set[str]] = {}
    sites = client.get("sites")
    for site in sites if isinstance(sites, list) else []:
        if not isinstance(site, dict):
            continue
        monitors = site.get("monitors")
        names = {
            str(m.get("name")).strip()
            for m in (monitors if isinstance(monitors, list) else [])
            if isinstance(m, dict)
        }
        found[str(site.get("slug")).strip()] = names
    return found


def _component_issues(loc: Loc, page: dict[str, Any], client: dict[str, Any]) -> list[ConfigIssue]:
    """Each component must name a monitor of the client's sites in the file, once."""
    monitors = _monitor_names(client)
    components = page.get("components")
    issues, seen = [], set()
    for i, item in enumerate(components if isinstance(components, list) else []):
        if not isinstance(item, dict):
            continue
        site, name = str(item.get("site", "")).strip(), str(item.get("monitor", "")).strip()
        where = (*loc, "components", i)
        if site not in monitors:
            message = _("no site %(site)s among this client's sites") % {"site": site}
            issues.append(ConfigIssue((*where, "site"), message))
        elif name not in monitors[site]:
            message = _("no monitor %(monitor)s among the monitors of site %(site)s") % {
                "monitor": name,
                "site": site,
            }
            issues.append(ConfigIssue((*where, "monitor"), message))
        elif (site, name) in seen:
            message = _("this monitor is already a component of the page")
            issues.append(ConfigIssue((*where, "monitor"), message))
        seen.add((site, name))
    return issues


def _model_issues(loc: Loc, spec: StatusPageSpec) -> list[ConfigIssue]:
    """The page model's own checks (colour, host name, logo address), at file paths."""
    page = StatusPage(slug=spec.slug, **spec.columns())
    try:
        page.clean_fields(exclude=["client", "slug"])
        page.clean()
    except ModelValidationError as exc:
        names = {v: k for k, v in _COLUMN.items()}
        return [
            ConfigIssue(loc if column == NON_FIELD_ERRORS else (*loc, names.get(column, column)), m)
            for column, messages in exc.message_dict.items()
            for m in messages
        ]
    return []


def _taken_issues(loc: Loc, spec: StatusPageSpec, agency: str, client: str) -> list[ConfigIssue]:
    """Slugs and custom domains are unique across the install: taken by another client's
    page (of this agency or any other) is an error."""
    elsewhere = StatusPage.objects.exclude(client__organization__slug=agency, client__slug=client)
    issues = []
    if elsewhere.filter(slug=spec.slug).exists():
        message = _("another status page already uses the address name %(slug)s") % {
            "slug": spec.slug
        }
        issues.append(ConfigIssue((*loc, "slug"), message))
    domain = normal_host(spec.custom_domain)
    if domain and elsewhere.filter(Q(custom_domain=domain)).exists():
        message = _("another status page uses this domain")
        issues.append(ConfigIssue((*loc, "custom_domain"), message))
    return issues


def check_status_pages(data: Any) -> list[ConfigIssue]:
    """Every page's references, the model's checks and what must be unique (the schema checks
    the shape; pages that fail it are skipped here)."""
    agency = data.get("agency") if isinstance(data, dict) else None
    agency_slug = str(agency.get("slug", "")).strip() if isinstance(agency, dict) else ""
    issues: list[ConfigIssue] = []
    slugs: dict[str, Loc] = {}
    domains: dict[str, Loc] = {}
    for loc, item, client in _pages(data):
        issues += _component_issues(loc, item, client)
        try:
            spec = StatusPageSpec.model_validate(item)
        except ValueError:
            continue
        issues += _model_issues(loc, spec)
        issues += _taken_issues(loc, spec, agency_slug, str(client.get("slug", "")).strip())
        for key, value, seen in (
            ("slug", spec.slug, slugs),
            ("custom_domain", normal_host(spec.custom_domain), domains),
        ):
            if value and value in seen:
                message = _("duplicate %(field)s %(value)s, also at %(other)s") % {
                    "field": key,
                    "value": value,
                    "other": format_path((*seen[value], key)),
                }
                issues.append(ConfigIssue((*loc, key), message))
            seen.setdefault(value, loc)
    return issues


# Monitors by (site slug, monitor name), as this apply leaves them (None: created in a dry run).
MonitorIndex = dict[tuple[str, str], Monitor | None]


def _components(page: StatusPage, spec: StatusPageSpec, monitors: MonitorIndex) -> None:
    """Replace the page's components with the file's, in the file's order."""
    page.components.all().delete()
    StatusComponent.objects.bulk_create(
        StatusComponent(
            page=page, monitor=saved(monitors[(c.site, c.monitor)]), name=c.name, position=i
        )
        for i, c in enumerate(spec.components)
    )


def reconcile_status_pages(
    work: Reconciler, client: Client | None, specs: list[StatusPageSpec], monitors: MonitorIndex
) -> None:
    """Create or update the client's pages with their components; stored pages the file drops
    are stale."""
    stored: dict[str, StatusPage] = {}
    components: dict[int, list[StatusComponent]] = {}
    if client is not None:
        stored = {p.slug: p for p in StatusPage.objects.filter(client=client)}
        rows = StatusComponent.objects.filter(page__client=client).select_related("monitor__site")
        for component in rows.order_by("position", "pk"):
            components.setdefault(component.page_id, []).append(component)
    label = client.slug if client is not None else ""
    for spec in specs:
        before = stored.get(spec.slug)
        page = work.sync(
            ObjectKind.STATUS_PAGE,
            f"{label or '?'}/{spec.slug}",
            before,
            partial(_new_page, client, spec),
            lambda p: stored_view(p, components.get(p.pk, [])),
            (spec.view(), spec.columns()),
        )
        if work.report.dry_run or page is None:
            continue
        if (
            before is None
            or stored_view(before, components.get(before.pk, []))["components"]
            != spec.view()["components"]
        ):
            _components(page, spec, monitors)
    listed = {spec.slug for spec in specs}
    for slug, page in stored.items():
        if slug not in listed:
            work.stale(ObjectKind.STATUS_PAGE, f"{label}/{slug}", page)


def _new_page(client: Client | None, spec: StatusPageSpec) -> StatusPage:
    return StatusPage.objects.create(client=saved(client), slug=spec.slug, **spec.columns())
