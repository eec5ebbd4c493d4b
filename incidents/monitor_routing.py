"""Alert routing chosen per monitor: the escalation policy that pages people for its incidents.

Channels are routed by agency, client and site (``incidents.logic.channels_for``); escalation
policies by monitor, site, client, then the agency's default (``incidents.escalation.policy_for``).
A monitor's own policy is a ``PolicyAssignment`` of the monitor; removing it makes the monitor
follow its site's, client's or the agency's default again.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from incidents.models import EscalationPolicy, PolicyAssignment
from monitoring.models import Monitor


def set_monitor_policy(monitors: Sequence[Monitor], policy: EscalationPolicy | None) -> int:
    """Route the monitors' incidents through ``policy`` (None: as their site or client);
    return how many monitors changed."""
    ids = [m.pk for m in monitors]
    with transaction.atomic():
        current = dict(
            PolicyAssignment.objects.filter(monitor_id__in=ids).values_list(
                "monitor_id", "policy_id"
            )
        )
        if policy is None:
            PolicyAssignment.objects.filter(monitor_id__in=ids).delete()
            return len(current)
        changing = [pk for pk in ids if current.get(pk) != policy.pk]
        PolicyAssignment.objects.filter(monitor_id__in=changing).update(policy=policy)
        PolicyAssignment.objects.bulk_create(
            [PolicyAssignment(policy=policy, monitor_id=pk) for pk in changing if pk not in current]
        )
    return len(changing)
