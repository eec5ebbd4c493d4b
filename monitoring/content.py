"""Content baselines: learned from a first good check, accepted by a person after a change.

The check itself (``monitoring/checks/content.py``) has no database: the engine loads each
monitor's baseline here (:func:`baselines_for_engine`), the store learns new ones from the
outcomes (:func:`learn_baselines`), and people accept changed content
(:func:`accept_current_content`). Whenever a baseline is written, the monitor's ``updated_at``
moves, so the engine's fingerprint changes and it reloads its targets (schedule and streaks
are kept across a reload; only the targets' config changes).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, transaction
from django.utils import timezone

from monitoring.checks.content import Baseline, Verdict
from monitoring.logic import Outcome
from monitoring.models import CheckKind, CheckResult, ContentBaseline, Monitor
from sitecare.lib.messages import deferred as _

logger = logging.getLogger("sitecare.engine")


class ContentError(ValueError):
    """A baseline cannot be accepted; the message says why, for people."""


def baselines_for_engine(monitor_ids: Sequence[int] | None = None) -> dict[int, Baseline]:
    """The baselines of content monitors (all, or those given), as the engine hands them over."""
    # A monitor that became another kind keeps its baseline row, but must not be handed it.
    rows = ContentBaseline.objects.filter(monitor__kind=CheckKind.CONTENT)
    if monitor_ids is not None:
        rows = rows.filter(monitor_id__in=monitor_ids)
    return {row.monitor_id: as_baseline(row) for row in rows}


def as_baseline(row: ContentBaseline) -> Baseline:
    return Baseline(
        sha256=row.sha256,
        excerpt=row.excerpt,
        options_digest=row.options_digest,
        learned_at=row.learned_at.isoformat(),
    )


def learned_content(outcome: Outcome) -> dict[str, Any] | None:
    """The details of an outcome whose content should become its monitor's baseline."""
    details = outcome.details or {}
    if outcome.ok and details.get("baseline") == Verdict.LEARNED and details.get("sha256"):
        return details
    return None


def learn_baselines(outcomes: Sequence[Outcome]) -> int:
    """Keep the content of "baseline learned" outcomes as baselines; return how many were kept.

    1. Take the first learned outcome of each content monitor (in time order).
    2. A monitor that has a baseline under the same options keeps it (the first one wins);
       a stale one (learned under other options) is replaced.
    3. Move the monitor's ``updated_at`` so the engine reloads and compares from now on.
    A database error is logged, not raised: the results are stored already, and the next
    check (still without a baseline) learns again.
    """
    # Called with every batch the engine stores: pick the few learned outcomes before sorting.
    learned = [(o, d) for o in outcomes if (d := learned_content(o)) is not None]
    first: dict[int, tuple[datetime, dict[str, Any]]] = {}
    for outcome, details in sorted(learned, key=lambda pair: pair[0].checked_at):
        if outcome.monitor_id not in first:
            first[outcome.monitor_id] = (outcome.checked_at, details)
    if not first:
        return 0
    try:
        return _store_learned(first)
    except DatabaseError:
        logger.exception("learning content baselines failed; the next checks learn again")
        return 0


def _store_learned(first: dict[int, tuple[datetime, dict[str, Any]]]) -> int:
    """(In one transaction.) Write the learned baselines that are due; return how many."""
    written: set[int] = set()
    with transaction.atomic():
        content_monitors = set(
            Monitor.objects.filter(pk__in=first, kind=CheckKind.CONTENT).values_list(
                "pk", flat=True
            )
        )
        existing = {b.monitor_id: b for b in ContentBaseline.objects.filter(monitor_id__in=first)}
        for monitor_id in sorted(content_monitors):
            learned_at, details = first[monitor_id]
            current = existing.get(monitor_id)
            if current is not None and current.options_digest == details.get("options_digest"):
                continue
            values = baseline_values(details, learned_at, user=None)
            ContentBaseline.objects.update_or_create(monitor_id=monitor_id, defaults=values)
            written.add(monitor_id)
        touch_monitors(written)
    return len(written)


def baseline_values(
    details: dict[str, Any], learned_at: datetime, user: AbstractBaseUser | None
) -> dict[str, Any]:
    """The columns of a baseline taken from a result's details."""
    return {
        "sha256": str(details["sha256"]),
        "excerpt": str(details.get("excerpt", "")),
        "options_digest": str(details.get("options_digest", "")),
        "learned_at": learned_at,
        "accepted_by": user,
    }


def touch_monitors(monitor_ids: set[int]) -> None:
    """Move ``updated_at``: the engine's fingerprint changes and it reloads the targets."""
    Monitor.objects.filter(pk__in=monitor_ids).update(updated_at=timezone.now())


def accept_current_content(
    monitor: Monitor, user: AbstractBaseUser | AnonymousUser | None
) -> ContentBaseline:
    """Make the content of the monitor's latest check its baseline (after a wanted change).

    1. Only a content monitor has a baseline; its latest result must have read the page.
    2. The result's hash and excerpt become the baseline (an unchanged result keeps the
       stored excerpt), dated now and signed by the user.
    3. Move ``updated_at`` so the engine compares with the new baseline from its next reload.
    Raises :class:`ContentError` saying why when there is nothing to accept.
    """
    now = timezone.now()
    signer = user if isinstance(user, AbstractBaseUser) else None
    if monitor.kind != CheckKind.CONTENT:
        raise ContentError(_("Only content change monitors have a content baseline."))
    with transaction.atomic():
        latest = CheckResult.objects.filter(monitor=monitor).order_by("-checked_at", "-pk").first()
        if latest is None:
            raise ContentError(_("The monitor has not been checked yet: nothing to accept."))
        details = dict(latest.details or {})
        if not details.get("sha256"):
            raise ContentError(
                _("The latest check could not read the page content: nothing to accept.")
            )
        current = ContentBaseline.objects.filter(monitor=monitor).first()
        if "excerpt" not in details:
            if current is None or current.sha256 != details["sha256"]:
                raise ContentError(_("The latest check kept no content to accept."))
            details["excerpt"] = current.excerpt
        baseline, _created = ContentBaseline.objects.update_or_create(
            monitor=monitor, defaults=baseline_values(details, now, signer)
        )
        touch_monitors({monitor.pk})
    return baseline


def changed_content(monitor: Monitor) -> dict[str, Any] | None:
    """The details of the latest result when it is a content change (for the monitor page)."""
    latest = CheckResult.objects.filter(monitor=monitor).order_by("-checked_at", "-pk").first()
    if latest is None or not latest.details:
        return None
    if latest.details.get("baseline") != Verdict.CHANGED:
        return None
    return dict(latest.details)
