"""The SLA page's charts: pure functions from figures to escaped SVG."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from front.charts_sla import HistoryBar, budget_svg, duration_top, history_svg

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = [(date(2026, 9, 1) + timedelta(days=i), START + timedelta(days=i)) for i in range(30)]


def test_it_picks_an_axis_top_that_reads_as_a_duration():
    assert duration_top(0) == 20
    assert duration_top(2592 * 1.05) == 3600  # 43 min 12 s and a margin: a one-hour axis
    assert duration_top(3 * 86_400) == 4 * 86_400


def test_it_draws_the_used_budget_against_the_allowance_and_the_even_pace():
    svg = budget_svg(
        start=START,
        end=END,
        days=DAYS,
        allowed=timedelta(minutes=43, seconds=12),
        burn=[(START + timedelta(days=i), timedelta(minutes=2 * i)) for i in range(1, 11)],
        pace=[(START, timedelta(0)), (END, timedelta(minutes=43, seconds=12))],
        title="Budget of <b>Shop</b> & Co",
        legend=("Used", "Allowance", "Even pace"),
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title>Budget of &lt;b&gt;Shop&lt;/b&gt; &amp; Co</title>" in svg
    assert "<b>" not in svg
    (used_line,) = re.findall(r'<polyline points="([^"]*)" fill="none" class="budget-used"', svg)
    used = used_line.split()
    assert len(used) == 11  # the window's start, then one point a day so far
    assert "1 h" in svg  # the axis top
    assert svg.count('class="budget-allowance"') == 1 and 'class="budget-pace"' in svg


def test_it_draws_no_used_line_before_the_window_begins():
    svg = budget_svg(
        start=START,
        end=END,
        days=DAYS,
        allowed=timedelta(minutes=43),
        burn=[],
        pace=[],
        title="Budget",
        legend=("Used", "Allowance", "Even pace"),
    )
    assert 'class="budget-used"' not in svg and 'class="budget-now"' not in svg
    assert 'class="budget-allowance"' in svg


def test_it_draws_a_bar_a_known_month_red_when_it_missed_the_target():
    bars = [
        HistoryBar("Jul <2026>", None, "—", "met"),
        HistoryBar("Aug 2026", 100.0, "100.000 %", "met"),
        HistoryBar("Sep 2026", 99.5, "99.500 %", "missed"),
    ]
    svg = history_svg(bars, target=Decimal("99.9"), title="History", target_label="Target")
    assert svg.count('class="history-bar history-bar--met"') == 1
    assert svg.count('class="history-bar history-bar--missed"') == 1
    assert "<title>Sep 2026: 99.500 %</title>" in svg
    assert "Jul &lt;2026&gt;" in svg and "<2026>" not in svg
    assert 'class="history-target"' in svg
    assert "99.00 %" in svg  # 0.5 down, a bit more: the axis starts at 99 %
