"""The engine's database side: load what to check, store what was found.

Everything here is synchronous Django ORM code; the engine calls it from its one database
thread, never from the event loop.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from django.db import close_old_connections
from django.db.models import Count, Max, Q

from monitoring import content, engine_runs
from monitoring.checks import ENGINE_KINDS
from monitoring.checks.content import with_baseline
from monitoring.engine.target import CheckTarget
from monitoring.logic import Outcome, record_results
from monitoring.models import Monitor
from monitoring.streaks import Streak
from sitecare.lib.netpolicy import IPNetwork
from tenancy.models import Organization

logger = logging.getLogger("sitecare.engine")

Fingerprint = tuple[object, ...]


def fingerprint() -> Fingerprint:
    """A cheap summary that changes when the set of monitors to check may have changed.

    Counts catch creations, deletions (also cascades from sites and clients) and enabling;
    the latest ``updated_at`` catches edits made through ``save()``; a digest of the
    allowlists catches policy changes (organizations are few).
    """
    close_old_connections()
    totals = Monitor.objects.aggregate(
        count=Count("id"),
        enabled=Count("id", filter=Q(enabled=True)),
        latest=Max("updated_at"),
    )
    digest = hashlib.sha256()
    for pk, allowlist in Organization.objects.order_by("pk").values_list("pk", "ssrf_allowlist"):
        digest.update(f"{pk}\0{allowlist}\0".encode())
    return (totals["count"], totals["enabled"], totals["latest"], digest.hexdigest())


def load_targets() -> dict[int, CheckTarget]:
    """Every enabled monitor of a kind the engine can run, with its organization's allowlist."""
    return load_monitors()[0]


def load_monitors() -> tuple[dict[int, CheckTarget], dict[int, Streak]]:
    """The monitors to check (see :func:`load_targets`) and their stored states and streaks."""
    close_old_connections()
    # Heartbeats are pushed to us, not probed (monitoring.heartbeats judges them); browser
    # kinds run as jobs on the job runner.
    probed = sorted(ENGINE_KINDS)
    monitors = Monitor.objects.filter(enabled=True, kind__in=probed).select_related(
        "site__client__organization"
    )
    allowlists: dict[int, tuple[IPNetwork, ...]] = {}
    targets: dict[int, CheckTarget] = {}
    streaks: dict[int, Streak] = {}
    # Content monitors compare with their baseline, handed over inside the config.
    baselines = content.baselines_for_engine()
    for monitor in monitors:
        org = monitor.site.client.organization
        if org.pk not in allowlists:
            allowlists[org.pk] = allowlist_of(org)
        config = with_baseline(monitor.config_for_engine(), baselines.get(monitor.pk))
        targets[monitor.pk] = target_of(monitor, allowlists[org.pk], config)
        streaks[monitor.pk] = Streak(monitor.state, monitor.streak_ok, monitor.streak_count)
    return targets, streaks


def target_of(
    monitor: Monitor, allowlist: tuple[IPNetwork, ...], config: dict[str, Any] | None = None
) -> CheckTarget:
    """A monitor as a check sees it, under its organization's allowlist."""
    return CheckTarget(
        monitor_id=monitor.pk,
        kind=monitor.kind,
        url=monitor.url,
        config=monitor.config_for_engine() if config is None else config,
        interval_s=float(monitor.interval_s),
        timeout_s=float(monitor.timeout_s),
        allowlist=allowlist,
        confirm_down=monitor.confirm_down,
        confirm_up=monitor.confirm_up,
        recheck_s=float(monitor.recheck_s),
    )


def allowlist_of(org: Organization) -> tuple[IPNetwork, ...]:
    try:
        return org.allowed_networks()
    except ValueError:
        # A malformed allowlist admits nothing extra: the safe reading of a broken policy.
        logger.warning("organization %s has an invalid network allowlist", org.pk)
        return ()


def store_results(outcomes: Sequence[Outcome]) -> int:
    """Store a batch of outcomes (state flips, incidents and alerts follow); return the count."""
    close_old_connections()
    record_results(outcomes)
    content.learn_baselines(outcomes)
    return len(outcomes)


def begin_run() -> int:
    """Record this engine's run as started now; return its id."""
    close_old_connections()
    return engine_runs.record_start()


def beat(run_id: int) -> bool:
    """Record that the run is alive (one UPDATE); False when its row is no longer open."""
    close_old_connections()
    return engine_runs.record_beat(run_id)


def end_run(run_id: int) -> None:
    """Record the run's clean stop."""
    close_old_connections()
    engine_runs.record_stop(run_id)
