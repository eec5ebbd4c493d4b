"""The content change check against a local page that the tests rewrite between checks.

Baselines go through the real store here (results recorded, baselines learned and accepted,
targets loaded as the engine loads them); the engine itself and the web/API side are in
``test_content_baseline.py``.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
from pydantic import ValidationError

from core.configcode import apply_config, export_config
from monitoring.checks import RUNNERS
from monitoring.checks.content import (
    BASELINE_KEY,
    DIFF_CHARS,
    Baseline,
    Options,
    Verdict,
    content_diff,
    run,
)
from monitoring.content import accept_current_content
from monitoring.engine import store
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import CheckKind, ContentBaseline, Monitor
from monitoring.spec import parse_monitor
from monitoring.tests.content_site import SHOP, Page, check_and_store, served
from monitoring.tests.loopback import arun, free_port
from sitecare.lib.http import OutboundClient
from tenancy.models import Organization

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.fixture
def page():
    """The shop page, served at the same address for the whole test."""
    with served(Page()) as shop:
        yield shop


def target(url: str, monitor_id: int = 1, **config) -> CheckTarget:
    return CheckTarget(
        monitor_id=monitor_id,
        kind=CheckKind.CONTENT,
        url=url,
        config=config,
        interval_s=60,
        timeout_s=3.0,
        allowlist=LOOPBACK,
    )


def check(page: Page, baseline: Baseline | None = None, **config):
    """Run one content check of the local page, with a baseline handed over as the engine does."""
    if baseline is not None:
        config[BASELINE_KEY] = baseline.as_config()

    async def scenario():
        async with OutboundClient() as client:
            return await run(target(page.url, **config), client)

    return arun(scenario())


def details(outcome: Outcome) -> dict[str, Any]:
    assert outcome.details is not None, outcome
    return outcome.details


def baseline_of(outcome) -> Baseline:
    """The baseline the store would keep from a "learned" outcome."""
    details = outcome.details
    return Baseline(details["sha256"], details["excerpt"], details["options_digest"])


def test_it_registers_the_content_runner():
    assert RUNNERS[CheckKind.CONTENT] is run


def test_it_learns_a_baseline_stays_up_and_fails_on_a_change_with_a_diff(page):
    learned = check(page)
    assert learned.ok and learned.failure_class == FailureClass.NONE
    assert learned.details["baseline"] == Verdict.LEARNED
    assert len(learned.details["sha256"]) == 64
    assert "Summer sale" in learned.details["excerpt"]
    assert learned.status_code == 200 and learned.response_ms is not None
    baseline = baseline_of(learned)

    same = check(page, baseline)
    assert same.ok and same.details["baseline"] == Verdict.UNCHANGED
    assert "excerpt" not in same.details  # unchanged results stay small

    page.template = SHOP.replace("Summer   sale", "Hacked by nobody")
    changed = check(page, baseline)
    assert not changed.ok
    assert changed.failure_class == FailureClass.CONTENT_CHANGED
    assert "Summer sale" in changed.message and "Hacked by nobody" in changed.message
    diff = changed.details["diff"]
    assert "-Summer sale" in diff and "+Hacked by nobody" in diff
    assert changed.details["baseline_sha256"] == baseline.sha256

    page.template = SHOP
    reverted = check(page, baseline)
    assert reverted.ok and reverted.details["baseline"] == Verdict.UNCHANGED


def test_it_hashes_only_the_selected_fragment(page):
    baseline = baseline_of(check(page, selector="#offer"))
    assert "Today" not in baseline.excerpt and "Shoes for everyone" in baseline.excerpt
    page.fields.update(date="2 June", visitors="11")
    page.template = SHOP.replace("<title>Shop", "<title>Other shop")
    assert check(page, baseline, selector="#offer").ok
    page.template = SHOP.replace("Shoes for", "Boots for")
    changed = check(page, baseline, selector="#offer")
    assert changed.failure_class == FailureClass.CONTENT_CHANGED
    assert "+Boots for everyone" in changed.details["diff"]


def test_it_counts_nested_matches_once(page):
    page.template = "<div class=box>outer <div class=box>inner</div></div>"
    learned = check(page, selector="div.box")
    assert learned.details["excerpt"] == "outer\ninner"


def test_it_fails_when_the_selector_matches_nothing(page):
    outcome = check(page, selector="#checkout")
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert "#checkout" in outcome.message and "matches nothing" in outcome.message


def test_it_removes_ignored_patterns_before_hashing(page):
    ignore = [r"Today: .*", r"Visitors: \d+"]
    baseline = baseline_of(check(page, ignore=ignore))
    assert "Today" not in baseline.excerpt and "Visitors" not in baseline.excerpt
    page.fields.update(date="2 June", visitors="9999")
    assert check(page, baseline, ignore=ignore).ok
    # Without the patterns the same change alarms.
    page.fields.update(date="1 June", visitors="10")
    plain = baseline_of(check(page))
    page.fields.update(date="2 June", visitors="9999")
    assert check(page, plain).failure_class == FailureClass.CONTENT_CHANGED


def test_it_gives_up_on_an_ignore_pattern_that_backtracks_without_end(page):
    # Nested quantifiers over a run of the same letter: exponential in the run's length.
    page.fields.update(visitors="x" * 5000)
    started = time.monotonic()
    outcome = check(page, ignore=[r"Today: \d+", r"(x+x+)+y"])
    assert time.monotonic() - started < 10
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.INTERNAL_ERROR
    assert "Ignore pattern 2" in outcome.message and "(x+x+)+y" in outcome.message
    # The same page with a sane pattern is read as usual.
    assert check(page, ignore=[r"Visitors: x+"]).ok


def test_it_compares_visible_text_so_scripts_nonces_comments_and_wrapping_do_not_alarm(page):
    baseline = baseline_of(check(page))
    assert "window.build" not in baseline.excerpt and "color" not in baseline.excerpt
    page.fields["nonce"] = "n2"  # script nonce, script body and the comment change
    page.template = SHOP.replace("Summer   sale", "Summer\n\n   sale").replace(
        "<p>Shoes", "<p class='new'>Shoes"
    )
    assert check(page, baseline).ok


def test_it_compares_markup_in_html_mode(page):
    baseline = baseline_of(check(page, compare="html", ignore=[r'nonce="\w+"']))
    assert '<main id="offer">' in baseline.excerpt
    # A new attribute is invisible as text but is a change of the markup.
    page.template = SHOP.replace("<p>Shoes", "<p class='new'>Shoes")
    changed = check(page, baseline, compare="html", ignore=[r'nonce="\w+"'])
    assert changed.failure_class == FailureClass.CONTENT_CHANGED
    assert '+<p class="new">Shoes for everyone' in changed.details["diff"]


def test_it_reports_a_missing_expected_text_and_learns_nothing(page):
    outcome = check(page, must_contain=["Summer sale", "Free delivery"])
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.KEYWORD_MISSING
    assert "Free delivery" in outcome.message and "Summer sale" not in outcome.message
    assert outcome.details["missing"] == ["Free delivery"]
    assert outcome.details["baseline"] == Verdict.NOT_LEARNED
    # Whitespace in the expected text counts as in the page: runs are one space.
    assert check(page, must_contain=["Shoes  for everyone"]).ok


def test_it_only_checks_texts_when_changes_do_not_alert(page):
    baseline = baseline_of(check(page))
    page.template = SHOP.replace("Summer   sale", "Winter sale")
    outcome = check(page, baseline, alert_on_change=False, must_contain="Shoes")
    assert outcome.ok and outcome.details["baseline"] == Verdict.UNWATCHED


def test_it_never_learns_an_error_page_or_an_unreachable_one(page):
    page.status = 503
    error = check(page)
    assert error.failure_class == FailureClass.HTTP_STATUS and error.status_code == 503
    assert error.details is None

    async def refused():
        async with OutboundClient() as client:
            return await run(target(f"http://127.0.0.1:{free_port()}/"), client)

    outcome = arun(refused())
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED
    assert not (outcome.details or {}).get("sha256")


def test_it_keeps_the_diff_bounded():
    before = "\n".join(f"line {i}" for i in range(2000))
    after = "\n".join(f"changed line {i} " + "x" * 400 for i in range(2000))
    diff = content_diff(before, after)
    assert len(diff) <= DIFF_CHARS + 400
    assert diff.endswith("…")


@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        ({"selector": "div["}, "selector", "not a valid CSS selector"),
        ({"ignore": ["ok", "[0-9"]}, "ignore", "pattern 2"),
        ({"compare": "pixels"}, "compare", "'text' or 'html'"),
        ({"must_contain": [""]}, "must_contain.0", "at least 1 character"),
        ({"ignore": ["x"] * 21}, "ignore", "at most 20"),
        ({"keyword": "Shoes"}, "keyword", "Extra inputs are not permitted"),
        ({BASELINE_KEY: {"sha256": "0" * 64}}, BASELINE_KEY, "Extra inputs"),
    ],
)
def test_it_refuses_bad_options_naming_the_field(config, field, words):
    with pytest.raises(ValidationError) as caught:
        Options.model_validate(config)
    errors = {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}
    assert field in errors, errors
    assert words in errors[field]


def test_it_validates_a_content_monitor_definition():
    definition = parse_monitor(
        {
            "name": "Home content",
            "kind": "content",
            "url": "https://shop.example/",
            "selector": "#offer",
            "ignore": r"\d+ visitors",
            "must_contain": "Add to cart",
        },
        LOOPBACK,
    )
    assert definition.options == {
        "selector": "#offer",
        "ignore": [r"\d+ visitors"],
        "must_contain": ["Add to cart"],
    }
    with pytest.raises(ValidationError) as caught:
        parse_monitor({"name": "x", "kind": "content", "url": "ftp://shop.example/"}, LOOPBACK)
    assert [e["loc"] for e in caught.value.errors()] == [("url",)]


# --- through the store: learn, compare, accept ---------------------------------------------


@pytest.fixture
def content_monitor(world, page):
    """A content monitor of client A watching the local page, its agency admitting loopback."""
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    return Monitor.objects.create(
        site=world.site_a, name="Content", kind=CheckKind.CONTENT, url=page.url
    )


def test_it_learns_through_the_store_then_compares_and_accepts(content_monitor, page, world):
    stamp = Monitor.objects.get(pk=content_monitor.pk).updated_at
    assert details(check_and_store(content_monitor))["baseline"] == Verdict.LEARNED
    baseline = ContentBaseline.objects.get(monitor=content_monitor)
    assert baseline.accepted_by is None and "Summer sale" in baseline.excerpt
    # The engine's fingerprint sees the new baseline.
    assert Monitor.objects.get(pk=content_monitor.pk).updated_at > stamp
    assert BASELINE_KEY in store.load_targets()[content_monitor.pk].config

    assert details(check_and_store(content_monitor))["baseline"] == Verdict.UNCHANGED
    page.template = SHOP.replace("Summer   sale", "Hacked")
    changed = check_and_store(content_monitor)
    assert changed.failure_class == FailureClass.CONTENT_CHANGED

    accepted = accept_current_content(content_monitor, world.engineer)
    assert accepted.sha256 == details(changed)["sha256"] != baseline.sha256
    assert accepted.accepted_by == world.engineer and "Hacked" in accepted.excerpt
    assert check_and_store(content_monitor).ok


def test_it_keeps_the_first_baseline_when_a_stale_engine_learns_again(content_monitor, page):
    stale = store.load_targets()[content_monitor.pk]  # loaded before any baseline exists

    async def two_checks():
        async with OutboundClient() as client:
            first = await run(stale, client)
            page.template = SHOP.replace("Summer   sale", "Hacked")
            return first, await run(stale, client)

    first, second = arun(two_checks())
    assert first.details["baseline"] == second.details["baseline"] == Verdict.LEARNED
    store.store_results([second, first])  # the batch order does not matter: time does
    assert ContentBaseline.objects.get(monitor=content_monitor).sha256 == first.details["sha256"]
    store.store_results([second])
    assert ContentBaseline.objects.get(monitor=content_monitor).sha256 == first.details["sha256"]


def test_it_relearns_when_the_options_that_shape_the_hash_change(content_monitor):
    check_and_store(content_monitor)
    first = ContentBaseline.objects.get(monitor=content_monitor)
    Monitor.objects.filter(pk=content_monitor.pk).update(config={"selector": "#offer"})
    relearned = check_and_store(content_monitor)
    assert relearned.ok and details(relearned)["baseline"] == Verdict.LEARNED
    second = ContentBaseline.objects.get(monitor=content_monitor)
    assert second.sha256 != first.sha256 and "Today" not in second.excerpt


def test_it_hands_no_baseline_to_a_monitor_that_changed_kind(content_monitor):
    check_and_store(content_monitor)
    Monitor.objects.filter(pk=content_monitor.pk).update(kind=CheckKind.HTTP)
    assert BASELINE_KEY not in store.load_targets()[content_monitor.pk].config


def test_it_keeps_the_baseline_out_of_config_as_code(db, page):
    document = f"""
agency: {{slug: shop-agency, name: Shop agency, network_allowlist: ["127.0.0.0/8"]}}
clients:
  - slug: acme
    name: ACME
    sites:
      - slug: shop
        name: Shop
        monitors:
          - {{name: Offer, kind: content, url: "{page.url}", selector: "#offer"}}
"""
    apply_config(document)
    monitor = Monitor.objects.get(name="Offer")
    check_and_store(monitor)
    learned = ContentBaseline.objects.get(monitor=monitor)
    assert apply_config(document).is_empty  # the learned baseline is no difference
    exported = export_config(Organization.objects.get(slug="shop-agency"))
    assert "selector: '#offer'" in exported
    assert BASELINE_KEY not in exported and learned.sha256 not in exported
    assert ContentBaseline.objects.get(monitor=monitor).sha256 == learned.sha256
