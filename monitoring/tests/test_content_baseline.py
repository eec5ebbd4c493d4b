"""Content baselines end to end: the probe engine learning and reloading them, a defacement
keeping the monitor down until accepted, and accepting in the web UI and the API (personas)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse, reverse_lazy

from api.tests.conftest import ApiCaller
from front.tests.conftest import signed_in
from incidents.models import Incident, IncidentState
from monitoring.checks import RUNNERS
from monitoring.checks.content import BASELINE_KEY, Verdict
from monitoring.content import ContentError, accept_current_content
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckKind, ContentBaseline, Monitor, MonitorState
from monitoring.tests.content_site import SHOP, Page, check_and_store, served
from monitoring.tests.loopback import arun
from tenancy.models import ApiToken

pytestmark = pytest.mark.usefixtures("netlog")

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DEFACED = SHOP.replace("Summer   sale", "&lt;img src=x onerror=alert(1)&gt; was here")


@pytest.fixture
def page():
    with served(Page()) as shop:
        yield shop


@pytest.fixture
def watched(world, page):
    """A content monitor of client A on the local page (its agency admits loopback)."""
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.filter(kind=CheckKind.HTTP).update(enabled=False)
    return Monitor.objects.create(
        site=world.site_a,
        name="Offer content",
        kind=CheckKind.CONTENT,
        url=page.url,
        interval_s=1,
        timeout_s=0.8,
        recheck_s=1,
        confirm_down=2,
        confirm_up=1,
    )


@pytest.fixture
def defaced(watched, page):
    """The monitor after a learned baseline and a check that found the page defaced."""
    check_and_store(watched)
    page.template = DEFACED
    changed = check_and_store(watched)
    assert changed.failure_class == FailureClass.CONTENT_CHANGED
    return watched


def engine() -> ProbeEngine:
    config = EngineConfig.from_settings(
        flush_seconds=0.1, reload_seconds=0.2, stop_grace_seconds=2.0, metrics_port=0
    )
    return ProbeEngine(config, random.Random(5))


async def wait_for(probe: ProbeEngine, predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe.run_in_db(predicate):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


# --- the engine ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_learns_in_the_engine_and_compares_after_a_reload_that_keeps_the_schedule(watched, page):
    probe = engine()
    pk = watched.pk

    async def scenario():
        await probe.handle_one_reload(force=True)
        assert BASELINE_KEY not in probe.targets[pk].config
        learned = await RUNNERS[CheckKind.CONTENT](probe.targets[pk], probe.outbound)
        probe.take_outcome(learned, CheckKind.CONTENT, asyncio.get_running_loop().time())
        before = (probe.schedule.due_of(pk), probe.streaks[pk])
        await probe.handle_one_flush()
        reloaded = await probe.handle_one_reload()  # no force: the fingerprint moved
        after = (probe.schedule.due_of(pk), probe.streaks[pk])
        handed = dict(probe.targets[pk].config[BASELINE_KEY])
        page.template = DEFACED
        changed = await RUNNERS[CheckKind.CONTENT](probe.targets[pk], probe.outbound)
        await probe.shutdown()
        return learned, before, reloaded, after, handed, changed

    learned, before, reloaded, after, handed, changed = arun(scenario())
    assert learned.details["baseline"] == Verdict.LEARNED
    assert reloaded and after == before
    stored = ContentBaseline.objects.get(monitor=watched)
    assert handed["sha256"] == stored.sha256 == learned.details["sha256"]
    assert changed.failure_class == FailureClass.CONTENT_CHANGED
    assert "+<img src=x onerror=alert(1)> was here" in changed.details["diff"]


@pytest.mark.django_db(transaction=True)
def test_it_stays_down_after_a_defacement_until_the_content_is_accepted(watched, page, world):
    probe = engine()
    pk = watched.pk

    def state() -> str:
        return Monitor.objects.get(pk=pk).state

    async def scenario():
        runner = asyncio.create_task(probe.run())
        await wait_for(probe, lambda: ContentBaseline.objects.filter(monitor_id=pk).exists())
        await wait_for(probe, lambda: BASELINE_KEY in probe.targets[pk].config)
        page.template = DEFACED
        await wait_for(probe, lambda: Incident.objects.filter(monitor_id=pk).exists())
        await asyncio.sleep(1.5)  # more checks of the defaced page: it stays down
        still = await probe.run_in_db(state)
        await probe.run_in_db(
            lambda: accept_current_content(Monitor.objects.get(pk=pk), world.owner)
        )
        await wait_for(probe, lambda: state() == MonitorState.UP)
        probe.request_stop()
        await runner
        return still

    assert arun(scenario()) == MonitorState.DOWN
    incident = Incident.objects.get(monitor=watched)
    assert incident.state == IncidentState.RESOLVED
    assert incident.failure_class == FailureClass.CONTENT_CHANGED
    baseline = ContentBaseline.objects.get(monitor=watched)
    assert baseline.accepted_by == world.owner and "onerror" in baseline.excerpt


# --- accepting ----------------------------------------------------------------------------


def test_it_accepts_the_latest_content_signed_and_dated(defaced, world):
    with time_machine.travel(T0, tick=False):
        baseline = accept_current_content(defaced, world.engineer)
    assert baseline.learned_at == T0 and baseline.accepted_by == world.engineer
    assert baseline.sha256 == defaced.results.latest("checked_at").details["sha256"]
    assert "was here" in baseline.excerpt


def test_it_accepts_an_unchanged_result_keeping_the_excerpt(watched, world):
    check_and_store(watched)
    check_and_store(watched)  # unchanged: the result holds no excerpt of its own
    learned = ContentBaseline.objects.get(monitor=watched)
    accepted = accept_current_content(watched, world.owner)
    assert (accepted.sha256, accepted.excerpt) == (learned.sha256, learned.excerpt)


def test_it_refuses_to_accept_when_there_is_nothing_to_accept(watched, world, page):
    with pytest.raises(ContentError, match="not been checked"):
        accept_current_content(watched, world.owner)
    page.status = 500
    check_and_store(watched)
    with pytest.raises(ContentError, match="could not read the page"):
        accept_current_content(watched, world.owner)
    with pytest.raises(ContentError, match="Only content change monitors"):
        accept_current_content(world.monitor_a, world.owner)
    assert not ContentBaseline.objects.exists()


def test_it_refuses_a_result_without_content_of_its_own(watched, world):
    record_results(
        [Outcome(watched.pk, T0, ok=True, details={"sha256": "a" * 64, "baseline": "unwatched"})]
    )
    with pytest.raises(ContentError, match="kept no content"):
        accept_current_content(watched, world.owner)


# --- the web UI ---------------------------------------------------------------------------


ACCEPT_URL = reverse_lazy("front:monitor_accept_content")


def accept(user, monitor: Monitor, **kwargs):
    return signed_in(user).post(ACCEPT_URL, {"monitor": monitor.pk}, **kwargs)


def test_it_shows_the_baseline_and_the_escaped_diff_on_the_monitor_page(defaced, world):
    response = signed_in(world.owner).get(reverse("front:monitor", args=[defaced.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Content baseline" in html and "learned on" in html
    assert "&lt;img src=x onerror=alert(1)&gt; was here" in html
    assert "<img src=x" not in html
    assert f'action="{ACCEPT_URL}"' in html and f'value="{defaced.pk}"' in html


def test_it_shows_client_users_the_change_but_no_accept_button(defaced, world):
    response = signed_in(world.client_a_user).get(reverse("front:monitor", args=[defaced.pk]))
    assert response.status_code == 200
    assert "was here" in response.content.decode()
    assert str(ACCEPT_URL) not in response.content.decode()
    other = signed_in(world.client_b_user).get(reverse("front:monitor", args=[defaced.pk]))
    assert other.status_code == 404


def test_it_accepts_from_the_monitor_page_for_agency_users_only(defaced, world):
    learned = ContentBaseline.objects.get(monitor=defaced).sha256
    assert accept(world.client_b_user, defaced).status_code == 404
    assert accept(world.client_a_user, defaced).status_code == 403
    assert signed_in(world.engineer).get(ACCEPT_URL).status_code == 405
    assert signed_in(world.engineer).post(ACCEPT_URL, {"monitor": "x"}).status_code == 404
    assert ContentBaseline.objects.get(monitor=defaced).sha256 == learned
    response = accept(world.engineer, defaced, follow=True)
    assert response.redirect_chain == [(reverse("front:monitor", args=[defaced.pk]), 302)]
    baseline = ContentBaseline.objects.get(monitor=defaced)
    assert baseline.sha256 != learned and baseline.accepted_by == world.engineer
    assert "accepted by engineer" in response.content.decode()


def test_it_says_why_nothing_was_accepted_on_the_monitor_page(watched, world):
    response = accept(world.owner, watched, follow=True)
    assert "nothing to accept" in response.content.decode()
    assert not ContentBaseline.objects.exists()


# --- the API ------------------------------------------------------------------------------


def api(user) -> ApiCaller:
    return ApiCaller(ApiToken.issue(user, "tests")[1])


def baseline_path(monitor: Monitor) -> str:
    return f"/monitors/{monitor.pk}/content-baseline"


def test_it_accepts_through_the_api_for_agency_users_only(defaced, world):
    learned = ContentBaseline.objects.get(monitor=defaced).sha256
    assert api(world.client_b_user).post(baseline_path(defaced), {}).status_code == 404
    assert api(world.client_a_user).post(baseline_path(defaced), {}).status_code == 403
    assert ContentBaseline.objects.get(monitor=defaced).sha256 == learned
    response = api(world.owner).post(baseline_path(defaced), {})
    assert response.status_code == 200, response.content
    body = response.json()
    latest = defaced.results.latest("checked_at").details["sha256"]
    assert (body["monitor"], body["sha256"], body["accepted_by"]) == (defaced.pk, latest, "owner")
    assert "was here" in body["excerpt"]


def test_it_answers_409_when_the_api_has_nothing_to_accept(watched, world):
    response = api(world.engineer).post(baseline_path(watched), {})
    assert response.status_code == 409
    assert "nothing to accept" in response.json()["detail"]
    http_monitor = api(world.engineer).post(baseline_path(world.monitor_a), {})
    assert http_monitor.status_code == 409
