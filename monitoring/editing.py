"""Saving a validated monitor definition made in the web forms: created with its pause recorded
when it starts paused; changed without touching the engine's state columns."""

from __future__ import annotations

from django.db import transaction

from monitoring.models import Monitor
from monitoring.pauses import Actor, record_created
from monitoring.spec import MonitorDefinition
from sites.models import Site


def save_monitor(
    monitor: Monitor | None, site: Site, definition: MonitorDefinition, actor: Actor
) -> Monitor:
    """Create (``monitor`` None) or change a monitor; ``ValidationError`` from the model's own
    rules (a name the site already uses), with nothing written.

    1. Fill the model fields from the definition (a heartbeat keeps its ping token).
    2. ``full_clean``, then save: a new one records its pause when it starts paused; a
       changed one saves only the definition's columns (pause and resume have their own path,
       ``monitoring.pauses.set_enabled``, so ``enabled`` is left as it is).
    """
    existing = monitor if monitor is not None and monitor.pk is not None else None
    values = definition.model_fields_for(existing)
    target = existing or Monitor(site=site)
    if existing is not None:
        values.pop("enabled")
    for name, value in values.items():
        setattr(target, name, value)
    target.full_clean()
    with transaction.atomic():
        if existing is None:
            target.save()
            record_created(target, actor)
        else:
            target.save(update_fields=[*values, "updated_at"])
    return target
