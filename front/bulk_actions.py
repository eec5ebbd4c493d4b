"""Bulk actions on monitors chosen in the monitors list: what was asked, checked, then done.

The chosen ids are loaded through the user's scope; an id the user cannot see (another
agency's or another client's monitor, or one deleted meanwhile) refuses the whole action, so
nothing changes. Each action runs in one transaction in the domain (``monitoring.bulk``,
``incidents.monitor_routing``) and says what it did in a sentence for the list's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from incidents.models import EscalationPolicy
from incidents.monitor_routing import set_monitor_policy
from monitoring import bulk
from monitoring.models import Monitor, Tag
from monitoring.pauses import Actor
from tenancy.scoping import Scope

MAX_CHOSEN = 500  # more than a page; a bulk action never takes the whole agency at once
INHERIT = "inherit"


class Action:
    PAUSE = "pause"
    RESUME = "resume"
    DELETE = "delete"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    SET_INTERVAL = "set_interval"
    SET_ROUTING = "set_routing"
    ALL = (PAUSE, RESUME, DELETE, ADD_TAG, REMOVE_TAG, SET_INTERVAL, SET_ROUTING)


class MonitorIds(forms.TypedMultipleChoiceField):
    """Monitor ids as integers; which of them the user may act on is ``chosen_monitors``'s
    to judge (against the scope), not a list of choices."""

    def valid_value(self, value: Any) -> bool:
        return True


class BulkForm(forms.Form):
    """One bulk action on the chosen monitors, with what it needs."""

    action = forms.ChoiceField(choices=[(a, a) for a in Action.ALL])
    monitor = MonitorIds(coerce=int, required=True)
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, label=gettext_lazy("Tag")
    )
    interval = forms.CharField(required=False, label=gettext_lazy("Interval (seconds)"))
    policy = forms.ChoiceField(required=False, label=gettext_lazy("Escalation policy"))

    def __init__(self, data: Any, scope: Scope) -> None:
        super().__init__(data)
        tag, policy = self.fields["tag"], self.fields["policy"]
        assert isinstance(tag, forms.ModelChoiceField) and isinstance(policy, forms.ChoiceField)
        tag.queryset = scope.visible(Tag)
        policy.choices = routing_choices(scope)
        self.fields["monitor"].error_messages["required"] = gettext_lazy(
            "Choose at least one monitor."
        )

    def clean_monitor(self) -> list[int]:
        chosen: list[int] = self.cleaned_data["monitor"]
        if len(chosen) > MAX_CHOSEN:
            raise forms.ValidationError(
                _("Choose at most %(limit)d monitors at once.") % {"limit": MAX_CHOSEN}
            )
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action in (Action.ADD_TAG, Action.REMOVE_TAG) and data.get("tag") is None:
            self.add_error("tag", _("Choose a tag."))
        if action == Action.SET_INTERVAL and not str(data.get("interval", "")).strip():
            self.add_error("interval", _("Give the interval in seconds."))
        if action == Action.SET_ROUTING and not data.get("policy"):
            self.add_error("policy", _("Choose an escalation policy."))
        return data


def routing_choices(scope: Scope) -> list[tuple[str, str]]:
    """The agency's escalation policies, and going back to the site's or client's."""
    policies = scope.visible(EscalationPolicy).order_by("name") if scope.is_agency else []
    return [(INHERIT, _("As its site or client (remove the monitor's own policy)"))] + [
        (str(p.pk), p.name) for p in policies
    ]


class NotInScope(Exception):
    """Some chosen id is not a monitor this user may see: the action is refused whole."""


def chosen_monitors(scope: Scope, ids: list[int], *, lock: bool = True) -> list[Monitor]:
    """The chosen monitors, locked for the action (inside its transaction) unless ``lock`` is
    false; NotInScope when any id is not visible."""
    wanted = set(ids)
    found = scope.visible(Monitor).select_related("site__client").filter(pk__in=wanted)
    monitors = list(found.select_for_update() if lock else found)
    if len(monitors) != len(wanted):
        raise NotInScope
    return sorted(monitors, key=lambda m: (m.site.name, m.name, m.pk))


@dataclass(frozen=True)
class Outcome:
    """What an action did (``message``), or why it did nothing (``errors``)."""

    message: str = ""
    errors: tuple[str, ...] = ()


def _interval(monitors: list[Monitor], interval: str, scope: Scope) -> Outcome:
    try:
        changed = bulk.set_interval(monitors, interval, scope.organization().allowed_networks())
    except bulk.BulkRefused as exc:
        return Outcome(errors=tuple(_refusal(r) for r in exc.refusals))
    text = ngettext(
        "Set the interval of %(count)d monitor.", "Set the interval of %(count)d monitors.", changed
    )
    return Outcome(text % {"count": changed})


def _refusal(refusal: bulk.Refusal) -> str:
    return _("%(monitor)s: %(field)s: %(message)s") % {
        "monitor": f"{refusal.monitor.site.name} · {refusal.monitor.name}",
        "field": refusal.field,
        "message": refusal.message,
    }


def _routing(monitors: list[Monitor], choice: str, scope: Scope) -> Outcome:
    policy = None if choice == INHERIT else scope.get(EscalationPolicy, pk=choice)
    changed = set_monitor_policy(monitors, policy)
    if policy is None:
        text = ngettext(
            "%(count)d monitor now follows its site's or client's escalation policy.",
            "%(count)d monitors now follow their site's or client's escalation policy.",
            changed,
        )
        return Outcome(text % {"count": changed})
    text = ngettext(
        "Routed %(count)d monitor to escalation policy %(policy)s.",
        "Routed %(count)d monitors to escalation policy %(policy)s.",
        changed,
    )
    return Outcome(text % {"count": changed, "policy": policy.name})


def _pausing(monitors: list[Monitor], paused: bool, user: Any) -> Outcome:
    changed = bulk.set_paused(monitors, paused, Actor.web(user))
    if paused:
        text = ngettext("Paused %(count)d monitor.", "Paused %(count)d monitors.", changed)
    else:
        text = ngettext("Resumed %(count)d monitor.", "Resumed %(count)d monitors.", changed)
    return Outcome(text % {"count": changed})


def _deleting(monitors: list[Monitor]) -> Outcome:
    deleted = bulk.delete_monitors(monitors)
    text = ngettext("Deleted %(count)d monitor.", "Deleted %(count)d monitors.", deleted)
    return Outcome(text % {"count": deleted})


def _tagging(monitors: list[Monitor], tag: Tag, adding: bool) -> Outcome:
    if adding:
        changed = bulk.add_tag(monitors, tag)
        text = ngettext(
            "Tagged %(count)d monitor with %(tag)s.",
            "Tagged %(count)d monitors with %(tag)s.",
            changed,
        )
    else:
        changed = bulk.remove_tag(monitors, tag)
        text = ngettext(
            "Removed tag %(tag)s from %(count)d monitor.",
            "Removed tag %(tag)s from %(count)d monitors.",
            changed,
        )
    return Outcome(text % {"count": changed, "tag": tag.name})


def perform(scope: Scope, form: BulkForm, user: Any) -> Outcome:
    """Run the form's action on its monitors in one transaction, all or nothing (deletion is
    confirmed first by the view, then done here)."""
    data = form.cleaned_data
    action = data["action"]
    with transaction.atomic():
        monitors = chosen_monitors(scope, data["monitor"])
        if action in (Action.PAUSE, Action.RESUME):
            return _pausing(monitors, action == Action.PAUSE, user)
        if action == Action.DELETE:
            return _deleting(monitors)
        if action in (Action.ADD_TAG, Action.REMOVE_TAG):
            return _tagging(monitors, data["tag"], action == Action.ADD_TAG)
        if action == Action.SET_INTERVAL:
            outcome = _interval(monitors, data["interval"], scope)
        else:
            outcome = _routing(monitors, data["policy"], scope)
        if outcome.errors:
            transaction.set_rollback(True)
        return outcome


@dataclass(frozen=True)
class DeletionSummary:
    """What goes with the chosen monitors when they are deleted."""

    monitors: list[Monitor]
    results: int
    state_changes: int
    incidents: int
    status_components: int


def deletion_summary(scope: Scope, ids: list[int]) -> DeletionSummary:
    """The chosen monitors (NotInScope when any is not visible) and what goes with them."""
    monitors = chosen_monitors(scope, ids, lock=False)  # only read, outside a transaction
    counts: QuerySet[Monitor] = Monitor.objects.filter(pk__in=ids)
    figures = {
        name: counts.aggregate(n=Count(relation))["n"]
        for name, relation in (
            ("results", "results"),
            ("state_changes", "state_changes"),
            ("incidents", "incidents"),
            ("status_components", "status_components"),
        )
    }
    return DeletionSummary(monitors, **figures)
