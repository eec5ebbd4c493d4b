"""Page speed, judged without a browser: medians, budgets and their message, CLS and TBT,
the options, and the environment a measurement belongs to."""

from __future__ import annotations

import pytest
from django.utils import translation
from pydantic import ValidationError

from monitoring.browser import calibration
from monitoring.browser.calibration import environment_key, reference_score
from monitoring.browser.page_load import NavigationFailed
from monitoring.browser.speed_check import navigation_class
from monitoring.browser.vitals import (
    LoadFigures,
    cumulative_layout_shift,
    total_blocking_time,
)
from monitoring.checks import kind_spec, speed
from monitoring.checks.speed import (
    Options,
    broken_budgets,
    budget_message,
    median_figures,
    median_run,
)
from monitoring.failures import FailureClass
from sitecare.lib import messages


def load(lcp: float | None, **figures: float) -> dict[str, float | int | None]:
    base: dict[str, float | int | None] = {
        "lcp_ms": lcp,
        "cls": 0.0,
        "tbt_ms": 0.0,
        "fcp_ms": 500.0,
        "ttfb_ms": 50.0,
        "bytes": 100_000,
        "requests": 10,
    }
    base.update(figures)
    return base


def test_it_takes_the_median_of_each_figure_so_one_slow_load_does_not_count():
    loads = [load(1200.0, cls=0.02), load(9800.0, cls=0.3), load(1300.0, cls=0.05)]
    medians = median_figures(loads)
    assert medians["lcp_ms"] == 1300.0
    assert medians["cls"] == 0.05
    assert medians["bytes"] == 100_000 and isinstance(medians["bytes"], int)


def test_it_leaves_out_loads_that_lack_a_figure_and_gives_none_when_all_do():
    assert median_figures([load(None), load(2000.0), load(3000.0)])["lcp_ms"] == 2500.0
    assert median_figures([load(None), load(None)])["lcp_ms"] is None


def test_it_breaks_only_the_budgets_whose_median_is_over_them():
    medians = median_figures([load(3200.0, cls=0.15, requests=40)])
    budgets = {"lcp_ms": 2500, "cls": 0.1, "requests": 50, "tbt_ms": 200}
    assert broken_budgets(medians, budgets) == ["lcp_ms", "cls"]
    assert broken_budgets(medians, {"lcp_ms": 3200}) == []  # at the budget is within it
    assert broken_budgets(medians, {}) == []


def test_it_counts_a_budgeted_figure_the_page_never_reached_as_broken():
    medians = median_figures([load(None)])
    assert broken_budgets(medians, {"lcp_ms": 2500}) == ["lcp_ms"]


def test_it_names_the_broken_figures_in_the_readers_language():
    medians = median_figures([load(3200.4, cls=0.1534, bytes=2_000_000)])
    budgets = {"lcp_ms": 2500, "cls": 0.1, "bytes": 1_000_000}
    message = budget_message(medians, budgets, broken_budgets(medians, budgets))
    assert str(message) == (
        "Page speed over budget: LCP 3200 ms (budget 2500 ms), CLS 0.153 (budget 0.1), "
        "page weight 2000000 B (budget 1000000 B)."
    )
    code, args = message.data()
    with translation.override("pl"):
        shown = messages.render(code, args)
    assert shown.startswith("Szybkość strony poza budżetem: LCP 3200 ms (budżet 2500 ms)")
    assert "waga strony 2000000 B" in shown


def test_it_picks_the_median_load_for_the_heaviest_resources():
    loads = [
        LoadFigures(900.0, 0, 0, 1, 1, 1, 1, resources=[{"url": "fast"}]),
        LoadFigures(5000.0, 0, 0, 1, 1, 1, 1, resources=[{"url": "slow"}]),
        LoadFigures(1500.0, 0, 0, 1, 1, 1, 1, resources=[{"url": "typical"}]),
    ]
    assert median_run(loads).resources == [{"url": "typical"}]


def test_it_groups_layout_shifts_into_session_windows_for_cls():
    shifts = [
        (100.0, 0.05, False),
        (600.0, 0.05, False),  # same window: 0.10
        (3000.0, 0.08, False),  # a gap over 1 s: a new window
        (3100.0, 0.5, True),  # right after input: left out
    ]
    assert cumulative_layout_shift(shifts) == 0.1
    # A window is at most 5 s long even when shifts keep coming every 0.9 s.
    steady = [(i * 900.0, 0.01, False) for i in range(12)]
    assert cumulative_layout_shift(steady) == 0.06


def test_it_counts_blocking_time_only_inside_the_window_from_fcp():
    tasks = [(0.0, 300.0), (1000.0, 120.0), (2000.0, 40.0), (9000.0, 200.0)]
    # From FCP at 200: the first task's last 100 ms count 50, the second 70, the third none;
    # the fourth lies past the window's end.
    assert total_blocking_time(tasks, 200.0, 5000.0) == 120.0
    assert total_blocking_time(tasks, None, 5000.0) == 0.0


def test_it_validates_the_options_and_normalises_blocked_hosts():
    options = Options.model_validate(
        {"block_hosts": ["Ads.Example.net.", "*.google-analytics.com"], "budgets": {"cls": 0.1}}
    )
    assert options.profile == "mobile" and options.runs == 3
    assert options.block_hosts == ["ads.example.net", "*.google-analytics.com"]
    assert options.budgets.as_dict() == {"cls": 0.1}
    for bad in ({"runs": 6}, {"runs": 0}, {"profile": "tablet"}, {"budgets": {"fid": 1}}):
        with pytest.raises(ValidationError):
            Options.model_validate(bad)
    with pytest.raises(ValidationError, match="not a host name"):
        Options.model_validate({"block_hosts": ["ads.*.net"]})


def test_it_registers_its_run_and_its_extra_record_with_the_kind():
    spec = kind_spec("speed")
    assert spec.in_browser and spec.run_in_browser is not None
    assert getattr(spec.run_in_browser, "__name__", "") == "run_in_browser"
    assert spec.record_extra is speed.record_extra


def test_it_classes_a_page_that_did_not_load():
    assert navigation_class(NavigationFailed("Timeout 10000ms", timed_out=True)) == (
        FailureClass.NAVIGATION_TIMEOUT
    )
    refused = NavigationFailed("Page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:9/")
    assert navigation_class(refused) == FailureClass.CONNECTION_REFUSED
    assert navigation_class(NavigationFailed("something else")) == FailureClass.BROWSER_ERROR


# --- the environment ---------------------------------------------------------------------------


def test_it_keys_an_environment_by_profile_chromium_major_and_a_reference_cpu_score():
    key = environment_key("mobile", "150.0.7871.100", 2208.4)
    assert key == "mobile/chromium-150/cpu-2208"
    assert reference_score(key) == 2208.0


def test_it_keeps_a_jittering_machine_in_its_environment():
    first = environment_key("mobile", "150.0.7871.100", 2100.0)
    # The same machine a little faster or slower, and a Chromium patch update: one series.
    for score in (1900.0, 2205.0, 2390.0):
        assert environment_key("mobile", "150.0.7871.200", score, [first]) == first


def test_it_splits_environments_by_cpu_browser_and_profile():
    known = ["mobile/chromium-150/cpu-2100"]
    assert environment_key("mobile", "150.0.1.1", 1500.0, known) == "mobile/chromium-150/cpu-1500"
    assert environment_key("mobile", "151.0.1.1", 2100.0, known) == "mobile/chromium-151/cpu-2100"
    assert environment_key("desktop", "150.0.1.1", 2100.0, known) == (
        "desktop/chromium-150/cpu-2100"
    )


def test_it_joins_the_nearest_of_several_known_environments():
    known = ["mobile/chromium-150/cpu-2000", "mobile/chromium-150/cpu-2400"]
    assert environment_key("mobile", "150.0.1.1", 2150.0, known).endswith("cpu-2000")
    assert environment_key("mobile", "150.0.1.1", 2300.0, known).endswith("cpu-2400")


def test_it_measures_the_cpu_once_per_period_per_process(monkeypatch):
    calls: list[int] = []

    def measure() -> float:
        calls.append(1)
        return 1000.0

    monkeypatch.setattr(calibration, "measure_cpu_score", measure)
    calibration.forget_cpu_score()
    assert calibration.cpu_score(now=0.0) == 1000.0
    assert calibration.cpu_score(now=calibration.SCORE_TTL_S - 1) == 1000.0
    assert len(calls) == 1
    calibration.cpu_score(now=calibration.SCORE_TTL_S)
    assert len(calls) == 2
    calibration.forget_cpu_score()


def test_it_scores_the_cpu_with_a_fixed_benchmark():
    score = calibration.measure_cpu_score()
    assert score > 0
