"""Error-budget alerts: raised once at 50 % and at 100 %, through the client's channels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from incidents import sender
from incidents.models import Channel, Notification, NotificationState
from incidents.models.core import EventKind
from incidents.tests.receivers import WebhookReceiver
from monitoring.models import Monitor, MonitorState, StateChange
from sla.alerts import check_budgets
from sla.examples import install_example_plans
from sla.models import BudgetAlert, CarePlan, ClientPlan

# The seasonal-shop plan in UTC: 99.9 % of 30 days of September = 43 min 12 s.
NOW = datetime(2026, 9, 15, 12, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def shop(world, receiver):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Channel.objects.filter(client=world.client_a).update(url=receiver.url())
    Channel.objects.create(
        organization=world.agency,
        name="Only critical",
        url=receiver.url("/critical"),
        min_severity="critical",
    )
    install_example_plans(world.agency)
    plan = CarePlan.objects.get(organization=world.agency, slug="seasonal-shop")
    plan.time_zone = "UTC"
    plan.save()
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    monitor = world.monitor_a
    Monitor.objects.filter(pk=monitor.pk).update(created_at=at(1, 0), state=MonitorState.UP)
    StateChange.objects.create(monitor=monitor, at=at(1, 0), from_state="unknown", to_state="up")
    return monitor


def outage(monitor: Monitor, start: datetime, end: datetime) -> None:
    StateChange.objects.create(monitor=monitor, at=start, from_state="up", to_state="down")
    StateChange.objects.create(monitor=monitor, at=end, from_state="down", to_state="up")


def test_it_raises_half_then_used_up_once_each_and_delivers_them(world, shop, receiver) -> None:
    # 22 of 43.2 minutes (50.9 %) in 14.5 days: the other 21.2 minutes last 13.97 days more.
    outage(shop, at(10, 10), at(10, 10, 22))
    assert check_budgets(NOW) == 1
    assert check_budgets(NOW) == 0  # once per level and window
    (half,) = Notification.objects.all()
    assert half.event == EventKind.BUDGET_HALF
    assert half.channel.name == "A hook"  # not client B's, not the critical-only one
    assert "Client A: half of the error budget used for 2026-09" in half.title
    assert "43 min 12 s" in half.body and "50.92 %" in half.body
    assert "At this rate the budget runs out on 2026-09-29 11:20 (UTC)" in half.body
    assert f"/clients/{world.client_a.pk}/sla/?period=2026-09" in half.body

    outage(shop, at(14, 9), at(14, 9, 30))
    assert check_budgets(NOW) == 1
    used_up = Notification.objects.get(event=EventKind.BUDGET_EXHAUSTED)
    assert "It ran out at 2026-09-14 09:21 (UTC)." in used_up.body
    assert BudgetAlert.objects.filter(client=world.client_a).count() == 2

    delivered = 0
    while sender.handle_one_notification():
        delivered += 1
    assert delivered == 2
    assert receiver.wait_for(2)
    assert [r.json()["title"] for r in receiver.requests] == [half.title, used_up.title]
    assert not Notification.objects.exclude(state=NotificationState.DELIVERED).exists()


def test_it_raises_again_in_the_next_window_and_not_before_the_plan_starts(world, shop) -> None:
    outage(shop, at(10, 10), at(10, 11))
    assert check_budgets(NOW) == 2  # both levels at once
    october = datetime(2026, 10, 20, tzinfo=UTC)
    StateChange.objects.create(
        monitor=shop, at=october.replace(day=5), from_state="up", to_state="down"
    )
    Monitor.objects.filter(pk=shop.pk).update(state=MonitorState.DOWN)
    ClientPlan.objects.filter(client=world.client_a).update(starts_on=datetime(2026, 11, 1).date())
    assert check_budgets(october) == 0
    ClientPlan.objects.filter(client=world.client_a).update(starts_on=None)
    assert check_budgets(october) == 2
    assert set(BudgetAlert.objects.values_list("window_start", flat=True)) == {
        datetime(2026, 9, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    }


def test_it_runs_in_the_alert_sender_round(world, shop, settings) -> None:
    settings.SITECARE_BUDGET_CHECK_SECONDS = 1
    outage(shop, at(10, 10), at(10, 10, 30))
    with time_machine.travel(NOW, tick=False):
        call_command("alert-sender", "--once")
    assert BudgetAlert.objects.filter(client=world.client_a, level=50).exists()
    assert (
        Notification.objects.get(event=EventKind.BUDGET_HALF).state == NotificationState.DELIVERED
    )
