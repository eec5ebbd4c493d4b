"""An agency with seven clients in known standings on 11 October 2026, for the overview tests.

- Client A: 99.9 % a month (UTC, 1000 PLN, 10 % below 99.9), down 60 min on 5 October:
  budget 44 min 38.4 s, used up at 10:44:38.4, availability 99.583 %, credit 100.00 PLN;
- Client B: 99.5 % a month (UTC), down 30 min on 3 October, its incident acknowledged after
  20 min against a P1 response target of 5: budget 13.440 % used, burn rate 5/12, one breach;
- Client C: 100 % a month (UTC), down 1 min on 6 October: no allowance, used up at once;
- Alpha and Delta: plans without a monitor (nothing used); Delta's is quarterly in Warsaw;
- Future: a plan in force from November; Zeta: no plan, down 145 min 12 s this month
  (99.000 % of the Warsaw October so far, around the clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from conftest import World
from incidents.models import Incident, IncidentState
from incidents.models.core import Severity
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from sites.models import Site
from sla.models import CarePlan, ClientPlan
from tenancy.models import Client

NOW = datetime(2026, 10, 11, tzinfo=UTC)
SINCE = datetime(2026, 6, 1, tzinfo=UTC)
ORDER = ["Client A", "Client C", "Client B", "Alpha", "Delta"]  # assessed, riskiest first
APART = ["Future", "Zeta"]  # no plan in force this window, by name


@dataclass
class Agency:
    a: Client
    b: Client
    c: Client
    alpha: Client
    delta: Client
    future: Client
    zeta: Client
    incident_b: Incident


def watched_since_june(monitor: Monitor) -> Monitor:
    Monitor.objects.filter(pk=monitor.pk).update(created_at=SINCE, state=MonitorState.UP)
    StateChange.objects.create(
        monitor=monitor, at=SINCE, from_state=MonitorState.UNKNOWN, to_state=MonitorState.UP
    )
    return monitor


def down(monitor: Monitor, start: datetime, length: timedelta) -> None:
    for at, old, new in (
        (start, MonitorState.UP, MonitorState.DOWN),
        (start + length, MonitorState.DOWN, MonitorState.UP),
    ):
        StateChange.objects.create(monitor=monitor, at=at, from_state=old, to_state=new)


def give_plan(
    client: Client, slug: str, target: str, *, starts_on: date | None = None, **terms: Any
) -> CarePlan:
    values: dict[str, Any] = {
        "name": slug.replace("-", " ").capitalize(),
        "slug": slug,
        "availability_target": Decimal(target),
        "time_zone": "UTC",
        "monthly_fee": Decimal(1000),
        "currency": "PLN",
        "credits": [{"below": target, "percent": "10"}] if target != "100" else [],
        **terms,
    }
    plan = CarePlan.objects.create(organization=client.organization, **values)
    ClientPlan.objects.create(client=client, plan=plan, starts_on=starts_on)
    return plan


def new_client(world: World, name: str, *, watched: bool = False) -> tuple[Client, Monitor | None]:
    slug = name.lower().replace(" ", "-")
    client = Client.objects.create(organization=world.agency, name=name, slug=slug)
    if not watched:
        return client, None
    site = Site.objects.create(client=client, name=name, slug=slug, url=f"https://{slug}.example")
    monitor = Monitor.objects.create(
        site=site, name="Home", kind=CheckKind.HTTP, url=f"https://{slug}.example/"
    )
    return client, watched_since_june(monitor)


def build_agency(world: World) -> Agency:
    """The seven clients of the module docstring (creation order is not the expected one)."""
    zeta, zeta_monitor = new_client(world, "Zeta", watched=True)
    assert zeta_monitor is not None
    down(zeta_monitor, datetime(2026, 10, 2, 6, tzinfo=UTC), timedelta(minutes=145, seconds=12))
    alpha, _ = new_client(world, "Alpha")
    give_plan(alpha, "alpha-care", "99.9")
    delta, _ = new_client(world, "Delta")
    give_plan(delta, "delta-care", "99.95", window="quarter", time_zone="Europe/Warsaw")
    future, _ = new_client(world, "Future")
    give_plan(future, "future-care", "99.9", starts_on=date(2026, 11, 1))
    give_plan(world.client_b, "b-care", "99.5", p1_response_minutes=5)
    down(watched_since_june(world.monitor_b), datetime(2026, 10, 3, 10, tzinfo=UTC), _MIN * 30)
    incident_b = Incident.objects.create(
        monitor=world.monitor_b,
        state=IncidentState.RESOLVED,
        severity=Severity.CRITICAL,
        opened_at=datetime(2026, 10, 3, 10, tzinfo=UTC),
        acknowledged_at=datetime(2026, 10, 3, 10, 20, tzinfo=UTC),
        resolved_at=datetime(2026, 10, 3, 10, 30, tzinfo=UTC),
    )
    give_plan(world.client_a, "a-care", "99.9")
    down(watched_since_june(world.monitor_a), datetime(2026, 10, 5, 10, tzinfo=UTC), _MIN * 60)
    c, c_monitor = new_client(world, "Client C", watched=True)
    assert c_monitor is not None
    give_plan(c, "c-care", "100")
    down(c_monitor, datetime(2026, 10, 6, 8, tzinfo=UTC), _MIN)
    return Agency(world.client_a, world.client_b, c, alpha, delta, future, zeta, incident_b)


_MIN = timedelta(minutes=1)
