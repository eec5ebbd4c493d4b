"""What an apply changes (or would change): a list of changes with field-level detail.

Secrets (channel URLs, secret monitor options) are shown redacted; a changed secret whose
redacted form is the same says so without showing either value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from sitecare.lib.crypto import redact_url


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("create")
    UPDATE = "update", gettext_lazy("update")
    DELETE = "delete", gettext_lazy("delete")


class ObjectKind(models.TextChoices):
    AGENCY = "agency", gettext_lazy("agency")
    CHANNEL = "channel", gettext_lazy("channel")
    CLIENT = "client", gettext_lazy("client")
    SITE = "site", gettext_lazy("site")
    MONITOR = "monitor", gettext_lazy("monitor")
    PLAN = "plan", gettext_lazy("care plan")
    WINDOW = "maintenance_window", gettext_lazy("maintenance window")
    STATUS_PAGE = "status_page", gettext_lazy("status page")
    TAG = "tag", gettext_lazy("tag")


_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value, as shown to people (secrets redacted)."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    """One object created, updated or deleted; ``label`` names it by its slugs (client/site)."""

    action: Action
    kind: ObjectKind
    label: str
    fields: tuple[FieldChange, ...] = ()
    note: str = ""

    def render(self) -> str:
        head = f"{_SYMBOL[self.action]} {self.kind.label} {self.label}"
        lines = [f"{head} ({self.note})" if self.note else head]
        for change in self.fields:
            if self.action == Action.CREATE:
                lines.append(f"    {change.field}: {change.new}")
            else:
                lines.append(f"    {change.field}: {change.old} → {change.new}")
        return "\n".join(lines)


def show(value: Any) -> str:
    """A value as written in YAML-ish JSON: strings quoted, lists in brackets."""
    if value is None:
        return _("(not set)")
    return json.dumps(value, ensure_ascii=False)


def redact_channel_url(value: Any) -> str:
    return redact_url(str(value))


def field_changes(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    secrets: frozenset[str] = frozenset(),
    redact: Callable[[Any], str] = redact_channel_url,
) -> tuple[FieldChange, ...]:
    """The fields whose values differ, in the order of ``new`` then ``old``.

    A field in ``secrets`` is shown through ``redact`` (never its value itself).
    """
    changes = []
    for key in dict.fromkeys([*new, *old]):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in secrets:
            shown_old = redact(before) if before else _("(not set)")
            shown_new = redact(after) if after else _("(not set)")
            if before and shown_old == shown_new:
                marker = _("(secret changed)")
                shown_new = f"{shown_new} {marker}"
            changes.append(FieldChange(key, shown_old, shown_new))
        else:
            changes.append(FieldChange(key, show(before), show(after)))
    return tuple(changes)


@dataclass
class ApplyReport:
    """The changes of one apply, what stayed the same and what the file no longer lists."""

    agency: str
    source: str
    dry_run: bool
    prune: bool
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    # Stored objects the file does not list; kept because prune was off.
    not_in_file: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def summary(self) -> str:
        counts = {
            "agency": self.agency,
            "create": self.count(Action.CREATE),
            "update": self.count(Action.UPDATE),
            "delete": self.count(Action.DELETE),
            "unchanged": self.unchanged,
        }
        if self.dry_run:
            text = _(
                "Agency %(agency)s: %(create)d to create, %(update)d to update, %(delete)d to "
                "delete, %(unchanged)d unchanged. Dry run: nothing was written."
            )
        else:
            text = _(
                "Agency %(agency)s: %(create)d created, %(update)d updated, %(delete)d "
                "deleted, %(unchanged)d unchanged."
            )
        return text % counts

    def render(self) -> str:
        """The diff, people-readable: one block per change, then notes and a summary."""
        if self.is_empty:
            lines = [_("No changes: the database matches %(source)s.") % {"source": self.source}]
        else:
            lines = [change.render() for change in self.changes]
        if self.count(Action.DELETE):
            lines.append(_("Deleting a site or monitor also deletes its results and incidents."))
        if self.not_in_file:
            lines.append(
                ngettext(
                    "%(count)d stored object is not in the file and was kept (--prune deletes "
                    "it): %(names)s",
                    "%(count)d stored objects are not in the file and were kept (--prune "
                    "deletes them): %(names)s",
                    len(self.not_in_file),
                )
                % {"count": len(self.not_in_file), "names": ", ".join(self.not_in_file)}
            )
        lines.append(self.summary())
        return "\n".join(lines)
