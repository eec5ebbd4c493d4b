"""Durations, uptime and response times read the way people say them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone, translation

from front.charts import Bucket, axis_number, response_time_svg
from front.formatting import human_duration, moment, response_time, uptime_percent
from front.tests.conftest import signed_in
from tenancy.models import ApiToken, Membership


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


@pytest.mark.parametrize(
    ("language", "detail", "text"),
    [
        ("pl", "abbr", "7 gru 2026, 21:02"),
        ("pl", "abbr_s", "7 gru 2026, 21:02:09"),
        ("pl", "day_abbr", "7 gru 2026"),
        ("pl", "", "7 grudnia 2026 21:02"),
        ("en", "abbr", "7 Dec 2026, 21:02"),
        ("en", "day_abbr", "7 Dec 2026"),
    ],
)
def test_it_writes_short_months_as_each_language_does(language, detail, text):
    at = datetime(2026, 12, 7, 20, 2, 9, tzinfo=UTC)
    with translation.override(language), timezone.override(ZoneInfo("Europe/Warsaw")):
        assert moment(at, detail) == text


# ``M`` in a date format is Django's capitalised short month ("Gru" in Polish): templates say
# ``|moment:"abbr"`` (or "day_abbr", "abbr_s") instead, which writes each language's own.
CAPITALISED_MONTH = re.compile(r"""\|date:\s*(["'])[^"']*(?<!\\)M[^"']*\1""")


def test_it_never_writes_a_capitalised_short_month_in_a_template():
    templates = Path(settings.BASE_DIR) / "templates"
    found = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in templates.rglob("*.html")
        for match in CAPITALISED_MONTH.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_it_shows_lower_case_polish_months_on_the_profile_page(world):
    ApiToken.issue(world.owner, "deploy")
    Membership.objects.filter(user=world.owner).update(language="pl")
    with time_machine.travel(datetime(2026, 12, 7, 20, 2, tzinfo=UTC), tick=False):
        ApiToken.objects.filter(user=world.owner).update(created_at=timezone.now())
        page = signed_in(world.owner).get("/profile/").content.decode()
    assert "7 gru 2026, 21:02" in page
    assert "Gru" not in page
