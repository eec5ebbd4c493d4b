"""Escalation policies at work, end to end: an outage pages step 1, the real sender loop pages
the next steps after their waits (time pinned) and delivers everything to a local webhook
receiver; an acknowledgement (here through the signed link in the page) stops it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine

from incidents.escalation import policy_for
from incidents.escalation_edit import StepSpec, policy_spec, save_policy
from incidents.models import (
    Channel,
    EscalationRun,
    EscalationStop,
    EventKind,
    IncidentEvent,
    Notification,
    OnCallOverride,
    OnCallSchedule,
)
from incidents.tests.escalation_world import (
    MINUTE,
    T0,
    ack_link_in,
    come_back,
    go_down,
    make_policy,
    messages_to,
    on_call_schedule,
    paths,
    personal,
    point_world_channels,
    post_ack_link,
    run_sender_once,
)
from incidents.tests.receivers import WebhookReceiver


@pytest.fixture
def webhook(world, settings):
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    receiver = WebhookReceiver().start()
    point_world_channels(world, receiver)
    yield receiver
    receiver.stop()


@pytest.fixture
def two_steps(world, webhook):
    """Step 1 pages the owner and waits 5 min; step 2 pages the engineer."""
    personal(world.owner, webhook)
    personal(world.engineer, webhook)
    return make_policy(
        world,
        [StepSpec(wait_minutes=5, users=[world.owner.pk]), StepSpec(10, users=[world.engineer.pk])],
    )


def test_it_pages_step_2_after_the_wait_when_nobody_acknowledges(world, webhook, two_steps):
    with time_machine.travel(T0, tick=False) as clock:
        incident = go_down(world.monitor_a, T0)
        run_sender_once()
        assert sorted(paths(webhook)) == ["/a-hook", "/owner"]

        clock.move_to(T0 + 5 * MINUTE - 1 * MINUTE / 60)
        run_sender_once()
        assert "/engineer" not in paths(webhook)

        clock.move_to(T0 + 5 * MINUTE)
        run_sender_once()
        assert paths(webhook).count("/engineer") == 1
        [page] = messages_to(webhook, "/engineer")
        assert "step 2 of 2" in page
        assert "Acknowledge: http" in page

    lines = IncidentEvent.objects.filter(incident=incident, kind=EventKind.ESCALATED)
    assert [(e.at, e.details["step"]) for e in lines.order_by("at", "pk")] == [
        (T0, 1),
        (T0 + 5 * MINUTE, 2),
    ]
    run = EscalationRun.objects.get(incident=incident)
    assert run.next_at == T0 + 15 * MINUTE
    assert run.stopped_at is None


def test_it_never_pages_step_2_when_step_1_acknowledges_in_time(world, webhook, two_steps):
    with time_machine.travel(T0, tick=False) as clock:
        incident = go_down(world.monitor_a, T0)
        run_sender_once()
        [page] = messages_to(webhook, "/owner")

        clock.move_to(T0 + 3 * MINUTE)
        post_ack_link(ack_link_in(page))

        for minutes in (5, 15, 60, 24 * 60):
            clock.move_to(T0 + minutes * MINUTE)
            run_sender_once()

    assert "/engineer" not in paths(webhook)
    incident.refresh_from_db()
    assert incident.acknowledged_at == T0 + 3 * MINUTE
    assert incident.acknowledged_by == world.owner  # the person the link was sent to
    run = EscalationRun.objects.get(incident=incident)
    assert (run.stop_reason, run.stopped_at) == (EscalationStop.ACKNOWLEDGED, T0 + 3 * MINUTE)
    assert not Notification.objects.filter(channel__user=world.engineer).exists()


def test_it_repeats_the_steps_then_stops(world, webhook):
    personal(world.owner, webhook)
    personal(world.engineer, webhook)
    make_policy(
        world,
        [StepSpec(5, users=[world.owner.pk]), StepSpec(5, users=[world.engineer.pk])],
        repeat=1,
    )
    with time_machine.travel(T0, tick=False) as clock:
        incident = go_down(world.monitor_a, T0)
        for minutes in range(0, 61):
            clock.move_to(T0 + minutes * MINUTE)
            run_sender_once()

    pages = [p for p in paths(webhook) if p != "/a-hook"]
    assert pages == ["/owner", "/engineer", "/owner", "/engineer"]
    keys = sorted(
        Notification.objects.filter(incident=incident, event=EventKind.ESCALATED).values_list(
            "dedup_key", flat=True
        )
    )
    assert len(set(keys)) == 4  # one key per round, step and channel
    run = EscalationRun.objects.get(incident=incident)
    assert (run.stop_reason, run.stopped_at) == (EscalationStop.EXHAUSTED, T0 + 20 * MINUTE)
    ended = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATION_ENDED)
    assert ended.at == T0 + 20 * MINUTE
    assert "nobody acknowledged" in ended.message


def test_it_tells_the_paged_people_when_the_incident_resolves(world, webhook, two_steps):
    with time_machine.travel(T0, tick=False) as clock:
        incident = go_down(world.monitor_a, T0)
        run_sender_once()
        clock.move_to(T0 + 2 * MINUTE)
        come_back(world.monitor_a, T0 + 2 * MINUTE)
        for minutes in (2, 5, 30):
            clock.move_to(T0 + minutes * MINUTE)
            run_sender_once()

    assert paths(webhook).count("/a-hook") == 2  # the ordinary down and up alerts
    owner = messages_to(webhook, "/owner")
    assert len(owner) == 2
    assert f"Incident #{incident.pk} is resolved" in owner[1]
    assert "/engineer" not in paths(webhook)
    run = EscalationRun.objects.get(incident=incident)
    assert run.stop_reason == EscalationStop.RESOLVED


def test_it_pages_whoever_is_on_call_in_the_schedule(world, webhook):
    personal(world.owner, webhook)
    personal(world.engineer, webhook)
    schedule = on_call_schedule(world, [world.engineer, world.owner])
    make_policy(world, [StepSpec(5, schedules=[schedule.pk])])
    with time_machine.travel(T0, tick=False):
        incident = go_down(world.monitor_a, T0)
        run_sender_once()

    [page] = messages_to(webhook, "/engineer")  # the first turn is the engineer's
    assert "You are on call in Primary." in page
    assert "/owner" not in paths(webhook)
    line = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATED)
    assert line.details["users"] == [world.engineer.pk]


def test_it_pages_the_person_covering_by_override_next_week(world, webhook):
    personal(world.owner, webhook)
    personal(world.engineer, webhook)
    schedule = on_call_schedule(world, [world.engineer, world.owner])
    week_later = T0 + timedelta(days=8)  # the owner's turn...
    OnCallOverride.objects.create(  # ...but the engineer covers that Tuesday
        schedule=schedule,
        user=world.engineer,
        starts_at=week_later - timedelta(hours=1),
        ends_at=week_later + timedelta(hours=5),
    )
    make_policy(world, [StepSpec(5, schedules=[schedule.pk])])
    with time_machine.travel(week_later, tick=False):
        go_down(world.monitor_a, week_later)
        run_sender_once()
        come_back(world.monitor_a, week_later)
    with time_machine.travel(week_later + timedelta(hours=6), tick=False):
        go_down(world.monitor_a, week_later + timedelta(hours=6))
        run_sender_once()

    pages = [p for p in paths(webhook) if p != "/a-hook"]
    assert pages == ["/engineer", "/engineer", "/owner"]  # page, its all-clear, then the owner


def test_it_goes_on_at_once_when_nobody_is_on_call(world, webhook):
    empty = OnCallSchedule.objects.create(organization=world.agency, name="Weekend")
    personal(world.owner, webhook)
    make_policy(world, [StepSpec(30, schedules=[empty.pk]), StepSpec(30, users=[world.owner.pk])])
    with time_machine.travel(T0, tick=False):
        incident = go_down(world.monitor_a, T0)
        run_sender_once()

    assert messages_to(webhook, "/owner")  # step 2, without waiting step 1's 30 minutes
    first, second = IncidentEvent.objects.filter(
        incident=incident, kind=EventKind.ESCALATED
    ).order_by("pk")
    assert "Nobody is on call in Weekend." in first.message
    assert "reached nobody" in first.message
    assert first.details["gaps"] == ["Nobody is on call in Weekend."]
    assert (second.at, second.details["step"]) == (T0, 2)
    assert EscalationRun.objects.get(incident=incident).next_at == T0 + 30 * MINUTE


def test_it_ends_when_no_step_reaches_anyone(world, webhook):
    make_policy(world, [StepSpec(5, users=[world.owner.pk])], repeat=3)  # no personal channel
    with time_machine.travel(T0, tick=False):
        incident = go_down(world.monitor_a, T0)
        run_sender_once()

    run = EscalationRun.objects.get(incident=incident)
    assert (run.stop_reason, run.stopped_at) == (EscalationStop.EXHAUSTED, T0)
    assert IncidentEvent.objects.filter(incident=incident, kind=EventKind.ESCALATED).count() == 1
    ended = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATION_ENDED)
    assert "reached anyone" in ended.message
    assert paths(webhook) == ["/a-hook"]  # the ordinary alert still went out


def test_it_never_pages_another_clients_channel(world, webhook):
    ops = Channel.objects.create(
        organization=world.agency, name="Ops room", url=webhook.url("/ops")
    )
    b_hook = Channel.objects.get(name="B hook")
    a_hook = Channel.objects.get(name="A hook")
    make_policy(
        world,
        [
            StepSpec(5, channels=[b_hook.pk, ops.pk]),
            StepSpec(5, channels=[a_hook.pk, b_hook.pk, ops.pk]),
        ],
    )
    with time_machine.travel(T0, tick=False) as clock:
        incident = go_down(world.monitor_a, T0)
        clock.move_to(T0 + 5 * MINUTE)
        run_sender_once()

    assert "/b-hook" not in paths(webhook)
    # Step 1 does not repeat the ordinary alert the ops room just got; step 2 pages it.
    ops_messages = messages_to(webhook, "/ops")
    assert len(ops_messages) == 2
    assert "/ack/" in ops_messages[1]
    a_messages = messages_to(webhook, "/a-hook")
    assert len(a_messages) == 2  # the ordinary alert, then step 2
    assert "/ack/" not in a_messages[1]  # client channels get no ack link: clients do not ack
    first = IncidentEvent.objects.filter(incident=incident, kind=EventKind.ESCALATED).first()
    assert first is not None
    assert first.details["channels"] == [ops.pk]


def test_it_follows_the_policy_as_it_was_when_the_incident_opened(world, webhook, two_steps):
    with time_machine.travel(T0, tick=False) as clock:
        incident = go_down(world.monitor_a, T0)
        run_sender_once()
        spec = policy_spec(two_steps)
        save_policy(two_steps, replace(spec, steps=spec.steps[:1]))  # step 2 removed
        clock.move_to(T0 + 5 * MINUTE)
        run_sender_once()

    assert paths(webhook).count("/engineer") == 1
    assert EscalationRun.objects.get(incident=incident).step_index == 1


def test_it_picks_the_sites_policy_then_the_clients_then_the_default(world):
    default = make_policy(world, [StepSpec(5, users=[world.owner.pk])], name="Default")
    for_client = make_policy(
        world,
        [StepSpec(5, users=[world.owner.pk])],
        name="Client A",
        is_default=False,
        clients=[world.client_a.pk],
    )
    assert policy_for(world.monitor_a) == for_client
    assert policy_for(world.monitor_b) == default
    for_site = make_policy(
        world,
        [StepSpec(5, users=[world.engineer.pk])],
        name="Shop A",
        is_default=False,
        sites=[world.site_a.pk],
    )
    assert policy_for(world.monitor_a) == for_site
    default.delete()
    assert policy_for(world.monitor_b) is None


def test_it_alerts_as_before_when_no_policy_applies(world, webhook):
    with time_machine.travel(T0, tick=False):
        incident = go_down(world.monitor_a, T0)
        run_sender_once()
    assert paths(webhook) == ["/a-hook"]
    assert not EscalationRun.objects.filter(incident=incident).exists()
