"""Durations, uptime and response times read the way people say them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from front.charts import Bucket, axis_number, response_time_svg
from front.formatting import human_duration, moment, response_time, uptime_percent


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (12, "12 s"),
        (252, "4 min 12 s"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (2 * 86_400 + 3 * 3600 + 5, "2 d 3 h"),
        (None, "—"),
    ],
)
def test_it_says_durations_in_two_units(seconds, text):
    with translation.override("en"):
        assert human_duration(seconds) == text


def test_it_never_rounds_downtime_up_to_100_percent():
    with translation.override("en"):
        assert uptime_percent(99.9999) == "99.99 %"
        assert uptime_percent(100.0) == "100 %"
        assert uptime_percent(None) == "—"


def test_it_says_response_times_in_ms_or_seconds():
    with translation.override("en"):
        assert response_time(123.4) == "123 ms"
        assert response_time(1530.0) == "1.5 s"
        assert response_time(None) == "—"


MOMENT = datetime(2026, 12, 7, 20, 2, 35, tzinfo=UTC)  # 21:02:35 in Warsaw


@pytest.mark.parametrize(
    ("language", "detail", "text"),
    [
        ("en", "", "7 Dec 2026, 21:02"),
        ("en", "s", "7 Dec 2026, 21:02:35"),
        ("en", "day", "7 Dec 2026"),
        ("en", "short_s", "7 Dec, 21:02:35"),
        # Polish: the month in the genitive and lowercase, as Django's Polish formats have it.
        ("pl", "", "7 grudnia 2026 21:02"),
        ("pl", "s", "7 grudnia 2026 21:02:35"),
        ("pl", "day", "7 grudnia 2026"),
        ("pl", "short_s", "7 grudnia, 21:02:35"),
        ("pl", "weekday", "Pon 7 grudnia 2026 21:02"),
    ],
)
def test_it_writes_moments_in_each_language_s_own_format(language, detail, text):
    """Review M8: Polish pages read "7 Gru 2026" (Django's "M" title-cases the month)."""
    with translation.override(language), timezone.override(ZoneInfo("Europe/Warsaw")):
        assert moment(MOMENT, detail) == text


def test_it_writes_chart_axes_with_the_language_s_decimal_comma():
    start = MOMENT - timedelta(hours=1)
    buckets = [Bucket(start, start + timedelta(minutes=5), response_ms=1.4, checks=1, failures=0)]
    for language, label in (("pl", "1,5 ms"), ("en", "1.5 ms")):
        with translation.override(language):
            svg = response_time_svg(
                buckets, start=start, end=MOMENT, tz=UTC, title="t", empty_text="—"
            )
        assert f">{label}<" in svg, language
        with translation.override(language):
            assert axis_number(0.5) == ("0,5" if language == "pl" else "0.5")
