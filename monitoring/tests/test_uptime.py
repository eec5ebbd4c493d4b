"""Uptime figures: worked examples over pinned time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from monitoring.uptime import Change, UptimeBatch, combine, summarize, timeline, uptime
from sites.models import Site
from tenancy.models import Client, Organization

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
UP, DOWN, UNKNOWN = MonitorState.UP, MonitorState.DOWN, MonitorState.UNKNOWN


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def test_it_counts_a_whole_day_up_as_100_percent():
    changes = [Change(ago(days=10), UNKNOWN, UP)]
    figure = uptime(changes, start=NOW - DAY, end=NOW, current_state=UP)
    assert figure.percent == 100.0
    assert figure.down_seconds == 0
    assert figure.up_seconds == 86_400


def test_it_measures_an_outage_of_4_min_12_s_to_the_second():
    changes = [
        Change(ago(days=3), UNKNOWN, UP),
        Change(ago(hours=2), UP, DOWN),
        Change(ago(hours=2) + timedelta(minutes=4, seconds=12), DOWN, UP),
    ]
    figure = uptime(changes, start=NOW - DAY, end=NOW, current_state=UP)
    assert figure.down_seconds == 252
    assert figure.up_seconds == 86_400 - 252
    assert figure.percent == pytest.approx(100 * (86_400 - 252) / 86_400)


def test_it_leaves_time_before_the_first_known_state_out_of_the_denominator():
    changes = [Change(ago(hours=6), UNKNOWN, UP), Change(ago(hours=3), UP, DOWN)]
    figure = uptime(changes, start=NOW - DAY, end=NOW, current_state=DOWN)
    assert figure.unknown_seconds == 18 * 3600
    assert figure.up_seconds == 3 * 3600
    assert figure.down_seconds == 3 * 3600  # still down: the open outage runs to now
    assert figure.percent == 50.0


def test_it_has_no_percentage_when_nothing_is_known():
    figure = uptime([], start=NOW - DAY, end=NOW, current_state=UNKNOWN)
    assert figure.percent is None
    assert figure.unknown_seconds == 86_400


def test_it_takes_the_state_at_the_start_from_a_change_before_the_window():
    changes = [Change(ago(days=2), UP, DOWN), Change(ago(hours=1), DOWN, UP)]
    figure = uptime(changes, start=NOW - DAY, end=NOW, current_state=UP)
    assert figure.down_seconds == 23 * 3600
    assert figure.up_seconds == 3600


def test_it_takes_the_state_at_the_start_from_the_first_change_s_from_state():
    changes = [Change(ago(hours=1), DOWN, UP)]  # the log before the window was not loaded
    figure = uptime(changes, start=NOW - DAY, end=NOW, current_state=UP)
    assert figure.down_seconds == 23 * 3600


def test_it_combines_a_group_as_down_while_any_member_is_down():
    start, end = NOW - DAY, NOW
    first = timeline(
        [
            Change(ago(days=5), UNKNOWN, UP),
            Change(ago(hours=5), UP, DOWN),
            Change(ago(hours=3), DOWN, UP),
        ],
        start=start,
        end=end,
        current_state=UP,
    )
    second = timeline(
        [
            Change(ago(days=5), UNKNOWN, UP),
            Change(ago(hours=4), UP, DOWN),
            Change(ago(hours=1), DOWN, UP),
        ],
        start=start,
        end=end,
        current_state=UP,
    )
    unknown = timeline([], start=start, end=end, current_state=UNKNOWN)
    figure = summarize(combine([first, second, unknown], start=start, end=end))
    assert figure.down_seconds == 4 * 3600  # 5 h ago to 1 h ago: the union of both outages
    assert figure.up_seconds == 20 * 3600
    assert figure.unknown_seconds == 0  # an unknown member does not hide the others' state


@pytest.fixture
def monitors(db):
    org = Organization.objects.create(name="Agency", slug="agency")
    client = Client.objects.create(organization=org, name="C", slug="c")
    site = Site.objects.create(client=client, name="S", slug="s")
    return [
        Monitor.objects.create(site=site, name=f"M{i}", kind=CheckKind.HTTP, url="https://x/")
        for i in range(3)
    ]


def flip(monitor: Monitor, at: datetime, old: str, new: str) -> None:
    StateChange.objects.create(monitor=monitor, at=at, from_state=old, to_state=new)
    Monitor.objects.filter(pk=monitor.pk).update(state=new, state_since=at)
    monitor.state = new


@time_machine.travel(NOW, tick=False)
def test_it_computes_24h_and_30d_figures_for_many_monitors_in_two_queries(
    monitors, django_assert_num_queries
):
    first, second, third = monitors
    flip(first, ago(days=40), UNKNOWN, UP)
    flip(first, ago(days=10), UP, DOWN)
    flip(first, ago(days=10) + timedelta(hours=6), DOWN, UP)
    flip(second, ago(hours=12), UNKNOWN, UP)
    flip(second, ago(minutes=30), UP, DOWN)
    with django_assert_num_queries(2):  # the state changes, and the pauses
        batch = UptimeBatch(monitors, longest=timedelta(days=30))
    assert batch.for_monitor(first.pk, DAY).percent == 100.0
    month = batch.for_monitor(first.pk, timedelta(days=30))
    assert month.down_seconds == 6 * 3600
    assert month.percent == pytest.approx(100 * (30 * 24 - 6) / (30 * 24))
    assert batch.for_monitor(second.pk, DAY).down_seconds == 1800
    assert batch.for_monitor(second.pk, DAY).unknown_seconds == 12 * 3600
    assert batch.for_monitor(third.pk, DAY).percent is None
    group = batch.for_group([first.pk, second.pk, third.pk], DAY)
    assert group.down_seconds == 1800
    assert group.up_seconds == 86_400 - 1800


@time_machine.travel(NOW, tick=False)
def test_it_gives_an_empty_group_no_percentage(monitors):
    batch = UptimeBatch([], longest=DAY)
    assert batch.for_group([], DAY).percent is None
