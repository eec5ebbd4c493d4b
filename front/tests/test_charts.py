"""The response-time chart: points in, escaped SVG out, at most ~300 points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from front.charts import CheckPoint, downsample, nice_ceiling, response_time_svg
from front.summaries import response_charts
from front.tests.conftest import signed_in
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckResult, HourlyRollup
from tenancy.scoping import scope_for

START = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
END = START + timedelta(days=1)
WARSAW = ZoneInfo("Europe/Warsaw")


def svg(buckets, title="Home", empty="nothing") -> str:
    return response_time_svg(
        buckets, start=START, end=END, tz=WARSAW, title=title, empty_text=empty
    )


def test_it_downsamples_a_day_of_10_second_checks_to_at_most_300_points():
    points = [
        CheckPoint(START + timedelta(seconds=10 * i), ok=True, response_ms=100.0)
        for i in range(8640)
    ]
    buckets = downsample(points, start=START, end=END)
    assert 0 < len(buckets) <= 300
    assert sum(b.checks for b in buckets) == 8640
    assert {b.response_ms for b in buckets} == {100.0}


def test_it_averages_good_checks_and_counts_failures_per_slice():
    points = [
        CheckPoint(START, ok=True, response_ms=100.0),
        CheckPoint(START + timedelta(seconds=30), ok=True, response_ms=300.0),
        CheckPoint(START + timedelta(seconds=60), ok=False, response_ms=None),
    ]
    (bucket,) = downsample(points, start=START, end=END)
    assert bucket.response_ms == 200.0
    assert (bucket.checks, bucket.failures) == (3, 1)


def test_it_renders_the_points_as_a_line_and_marks_failures():
    points = [
        CheckPoint(START + timedelta(minutes=5 * i), ok=i != 50, response_ms=120.0 + i)
        for i in range(288)
    ]
    out = svg(downsample(points, start=START, end=END))
    assert out.startswith("<svg") and out.endswith("</svg>")
    assert out.count("<polyline") == 2  # the failed slice breaks the line in two
    assert out.count('class="chart-failure"') == 1
    assert "500 ms" in out  # the axis top: 120..407 ms rounds up to 500


def test_it_escapes_text_in_the_svg():
    out = svg([], title='<script>alert("x")</script>', empty="<b>none</b>")
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "&lt;b&gt;none&lt;/b&gt;" in out


def test_it_picks_round_axis_tops():
    assert [nice_ceiling(v) for v in (0, 73, 100, 101, 730, 1800, 4100)] == [
        100,
        100,
        100,
        200,
        1000,
        2000,
        5000,
    ]


def test_it_escapes_a_monitor_named_script_on_the_site_page(world):
    world.monitor_a.name = "<script>alert(1)</script>"
    world.monitor_a.save()
    CheckResult.objects.create(
        monitor=world.monitor_a, checked_at=timezone.now(), ok=True, response_ms=90.0
    )
    html = signed_in(world.owner).get(reverse("front:site", args=[world.site_a.pk])).content
    assert b"<script>alert(1)</script>" not in html
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert b"<svg" in html


def test_it_draws_the_hourly_median_and_p95_from_rollups_not_raw_results(world):
    now = timezone.now()
    record_results(
        [
            Outcome(world.monitor_a.pk, now - timedelta(minutes=10 * i), ok=True, response_ms=ms)
            for i in range(1, 100)
            for ms in ((100.0, 110.0, 900.0)[i % 3],)
        ]
    )
    CheckResult.objects.all().delete()  # retention may have pruned them: the chart must not care
    assert HourlyRollup.objects.filter(monitor=world.monitor_a).count() >= 16
    scope = scope_for(world.owner)
    out = response_charts(scope, [world.monitor_a], now=now)[world.monitor_a.pk]
    assert out.count('class="chart-p95"') >= 1
    assert "median" in out and "95th percentile" in out
    assert "No checks" not in out
