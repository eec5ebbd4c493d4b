"""Durations, uptime and response times read the way people say them."""

from __future__ import annotations

import pytest
from django.utils import translation

from front.formatting import human_duration, response_time, uptime_percent


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
