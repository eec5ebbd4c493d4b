"""Set-up the SLA tests share: client A on one of the example care plans, a monitor's recorded
history, and a page's words."""

from __future__ import annotations

import re
from datetime import datetime

from conftest import World
from monitoring.models import Monitor, MonitorState, StateChange
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan


def on_example_plan(
    world: World, slug: str = "seasonal-shop", *, time_zone: str | None = None
) -> CarePlan:
    """Client A on the agency's example plan ``slug`` (installed here) since always, in
    ``time_zone`` when given (the seasonal shop's is Europe/Warsaw)."""
    install_example_plans(world.agency)
    plan = CarePlan.objects.get(organization=world.agency, slug=slug)
    if time_zone is not None:
        plan.time_zone = time_zone
        plan.save()
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    return plan


def flips(monitor: Monitor, *changes: tuple[datetime, str, str]) -> None:
    """Record the monitor's state changes: (at, from, to) each."""
    for at, old, new in changes:
        StateChange.objects.create(monitor=monitor, at=at, from_state=old, to_state=new)


def watched(
    monitor: Monitor,
    since: datetime,
    *changes: tuple[datetime, str, str],
    state: str = MonitorState.UP,
) -> None:
    """The monitor created at ``since`` and in ``state`` now, with these state changes."""
    Monitor.objects.filter(pk=monitor.pk).update(created_at=since, state=state)
    flips(monitor, *changes)


def page_words(html: str) -> str:
    """A page's text: tags dropped, every run of white space one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
