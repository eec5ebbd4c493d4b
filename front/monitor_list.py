"""The monitors list: search, filters, sort and pagination read from GET parameters, so a
view of the list can be bookmarked, in a fixed number of queries whatever the portfolio.

Every query starts from the user's scope (``tenancy.scoping``): a client user's list, its
filters and its tags hold only their client's monitors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from front import formatting
from front.summaries import Status, monitor_status
from monitoring.heartbeat_page import schedule_of
from monitoring.models import CheckKind, Monitor, MonitorState, Tag
from monitoring.tags import name_key, visible_tags
from sites.models import Site
from tenancy.models import Client
from tenancy.scoping import Scope

PAGE_SIZE = 50
PAUSED = "paused"
STATE_CHOICES = [
    (MonitorState.UP.value, _("Up")),
    (MonitorState.DOWN.value, _("Down")),
    (MonitorState.UNKNOWN.value, _("No data")),
    (PAUSED, _("Paused")),
]
# Sort keys (ascending; "-key" reverses): the columns the list can be sorted by.
SORTS: dict[str, Any] = {
    "name": ("name", "site__name", "pk"),
    "state": ("state_rank", "name", "pk"),
    "client": ("site__client__name", "site__name", "name", "pk"),
    # Never checked sorts as the oldest check: first ascending, last descending.
    "last_check": (F("last_checked_at"), "pk"),
    "kind": ("kind", "name", "pk"),
}
SORT_LABELS = {
    "name": _("Name"),
    "state": _("State"),
    "client": _("Client"),
    "last_check": _("Last check"),
    "kind": _("Kind"),
}
DEFAULT_SORT = "name"


def _forward(key: Any) -> Any:
    return key.asc(nulls_first=True) if isinstance(key, F) else key


def _reversed(key: Any) -> Any:
    if isinstance(key, F):
        return key.desc(nulls_last=True)
    return key[1:] if key.startswith("-") else f"-{key}"


class MonitorFilter(forms.Form):
    """The list's GET parameters; a value that is not valid is left out, never an error page."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    client = forms.TypedChoiceField(label=_("Client"), required=False, coerce=int)
    site = forms.TypedChoiceField(label=_("Site"), required=False, coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int)
    paused = forms.ChoiceField(
        label=_("Paused"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Paused only")), ("no", _("Not paused"))],
    )
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, data: QueryDict, *, clients: list[Client], sites: list[Site], tags: list[Tag]
    ):
        super().__init__(data)
        any_choice: list[tuple[Any, Any]] = [("", _("Any"))]
        choices: dict[str, list[tuple[Any, Any]]] = {
            "client": any_choice + [(c.pk, c.name) for c in clients],
            "site": any_choice + [(s.pk, s.name) for s in sites],
            "kind": any_choice + list(CheckKind.choices),
            "state": any_choice + STATE_CHOICES,
            "tag": any_choice + [(t.pk, t.name) for t in tags],
            "sort": [(k, k) for key in SORTS for k in (key, f"-{key}")],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def values(self) -> dict[str, Any]:
        """The valid values, each bad one dropped (the form shows it unselected)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FilterField:
    """A filter's select, its options worked out once (Django's widget templates cost more
    than the rest of the page)."""

    name: str
    label: str
    options: list[Option]


@dataclass(frozen=True)
class Row:
    """One monitor as the list shows it, its texts worked out once for the page."""

    monitor: Monitor
    status: str
    status_label: str
    tags: list[Tag]
    last_check: str
    interval: str
    kind: str


def filter_fields(form: MonitorFilter, names: list[str]) -> list[FilterField]:
    fields = []
    for name in names:
        bound = form[name]
        chosen = str(bound.value() or "")
        choices = form.fields[name].choices  # type: ignore[attr-defined]
        options = [Option(str(v), str(label), str(v) == chosen) for v, label in choices]
        fields.append(FilterField(name, str(bound.label), options))
    return fields


def interval_text(monitor: Monitor) -> str:
    """How often the monitor hears from its target: a heartbeat's period or cron schedule (its
    check pace only looks for a late ping), any other kind's check interval."""
    if monitor.kind == CheckKind.HEARTBEAT:
        schedule = schedule_of(monitor)[0]
        if schedule is not None:
            return schedule.cron or formatting.human_duration(schedule.period_s)
    return formatting.human_duration(monitor.interval_s)


def rows(monitors: list[Monitor]) -> list[Row]:
    """The page's rows; tags, site and client come from the page's own queries."""
    found = []
    for monitor in monitors:
        status = monitor_status(monitor)
        found.append(
            Row(
                monitor=monitor,
                status=status,
                status_label=str(Status.LABELS[status]),
                tags=sorted(monitor.tags.all(), key=lambda tag: name_key(tag.name)),
                last_check=formatting.moment(monitor.last_checked_at),
                interval=interval_text(monitor),
                kind=monitor.get_kind_display(),
            )
        )
    return found


@dataclass
class MonitorList:
    """One page of the list, and what its filters offer."""

    form: MonitorFilter
    page: Page[Monitor]
    sort: str
    query: dict[str, Any]
    clients: list[Client] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)

    @property
    def monitors(self) -> list[Monitor]:
        return list(self.page.object_list)

    def _url(self, **changes: Any) -> str:
        params = {**self.query, "sort": self.sort, **changes}
        if params.get("sort") == DEFAULT_SORT:
            del params["sort"]
        data = QueryDict(mutable=True)
        data.update({name: str(value) for name, value in params.items() if value not in ("", None)})
        return "?" + data.urlencode() if data else "?"

    def page_url(self, number: int) -> str:
        return self._url(page=number)

    @property
    def previous_url(self) -> str:
        return self.page_url(self.page.number - 1)

    @property
    def next_url(self) -> str:
        return self.page_url(self.page.number + 1)

    def here(self) -> str:
        """This view's query string (filters, sort and page), to come back to after an action."""
        return self._url(page=self.page.number)

    def sort_links(self) -> list[tuple[str, str, str]]:
        """Each sortable column: (key, label, link), the link reversing the current order."""
        links = []
        for key, label in SORT_LABELS.items():
            target = f"-{key}" if self.sort == key else key
            links.append((key, str(label), self._url(sort=target, page=None)))
        return links

    def sorted_by(self) -> tuple[str, bool]:
        """The sort key and whether it is descending."""
        return self.sort.removeprefix("-"), self.sort.startswith("-")


def _search(monitors: QuerySet[Monitor], text: str) -> QuerySet[Monitor]:
    """Every word must be in the name, the target (URL, host) or the site's name or address.

    A heartbeat's target is its secret ping token, never searched: a search that finds it
    by its letters would tell them, one guess at a time.
    """
    for word in text.split():
        monitors = monitors.filter(
            Q(name__icontains=word)
            | (Q(url__icontains=word) & ~Q(kind=CheckKind.HEARTBEAT))
            | Q(site__name__icontains=word)
            | Q(site__url__icontains=word)
        )
    return monitors


def _state(monitors: QuerySet[Monitor], state: str) -> QuerySet[Monitor]:
    if state == PAUSED:
        return monitors.filter(enabled=False)
    return monitors.filter(enabled=True, state=state)


def filtered(monitors: QuerySet[Monitor], values: dict[str, Any]) -> QuerySet[Monitor]:
    """The monitors matching the filter ``values`` (as :meth:`MonitorFilter.values` gives)."""
    if "q" in values:
        monitors = _search(monitors, values["q"])
    lookups = {"client": "site__client_id", "site": "site_id", "kind": "kind", "tag": "tags"}
    for name, lookup in lookups.items():
        if name in values:
            monitors = monitors.filter(**{lookup: values[name]})
    if "state" in values:
        monitors = _state(monitors, values["state"])
    if "paused" in values:
        monitors = monitors.filter(enabled=values["paused"] == "no")
    return monitors


def ordered(monitors: QuerySet[Monitor], sort: str) -> QuerySet[Monitor]:
    """Sorted by a key of :data:`SORTS` (``-`` first: reversed); by state, the worst first."""
    key = sort.removeprefix("-")
    parts = SORTS.get(key, SORTS[DEFAULT_SORT])
    turn = _reversed if sort.startswith("-") else _forward
    order = tuple(turn(part) for part in parts)
    if key == "state":
        monitors = monitors.annotate(
            state_rank=Case(
                When(enabled=False, then=Value(3)),
                When(state=MonitorState.DOWN, then=Value(0)),
                When(state=MonitorState.UNKNOWN, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
    return monitors.order_by(*order)


def monitor_list(scope: Scope, params: QueryDict) -> MonitorList:
    """One page of the monitors the scope sees, as ``params`` filter, sort and page them.

    1. The filter choices: the clients, the tags, and the sites of the chosen client (all
       sites would be a thousand options).
    2. Filter, sort and page; one query counts, one reads the page with sites and clients,
       one reads the page's tags.
    """
    clients = list(scope.visible(Client).order_by("name"))
    tags = list(visible_tags(scope))
    chosen_client = params.get("client", "")
    sites: list[Site] = []
    if chosen_client.isdigit():
        sites = list(scope.visible(Site).filter(client_id=int(chosen_client)).order_by("name"))
    form = MonitorFilter(params, clients=clients, sites=sites, tags=tags)
    values = form.values()
    sort = values.pop("sort", DEFAULT_SORT)
    monitors = (
        scope.visible(Monitor)
        .select_related("site__client")
        .defer("config")  # encrypted options: decrypting 50 of them costs, the list needs none
        .prefetch_related("tags")
    )
    monitors = ordered(filtered(monitors, values), sort)
    page = Paginator(monitors, PAGE_SIZE).get_page(params.get("page"))
    query = {name: value for name, value in values.items()}
    return MonitorList(form, page, sort, query, clients, tags)
