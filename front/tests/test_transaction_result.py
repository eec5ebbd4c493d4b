"""A transaction run's page and the files kept with it: the steps on a waterfall, the failing
step with its screenshot, the trace, console errors and requests; for the agency and client A's
users, 404 for client B's."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from front.tests.transaction_world import PNG, TRACE, seed_failed_run
from monitoring.browser import artifacts
from monitoring.failures import FailureClass
from monitoring.models import CheckResult
from sitecare.lib.messages import deferred

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(world):
    return seed_failed_run(world)


def page_url(monitor, result):
    return reverse("front:transaction_result", args=[monitor.pk, result.pk])


def test_it_shows_the_run_to_the_agency_and_the_clients_own_users(world, run):
    monitor, result, shot, trace = run
    for user in (world.owner, world.engineer, world.client_a_user):
        response = signed_in(user).get(page_url(monitor, result))
        assert response.status_code == 200, user
        page = response.content.decode()
        assert page.count('class="waterfall__bar"') == 5
        assert 'aria-current="step"' in page and "Failed here" in page
        assert "Step 4 failed" in page and "Payment provider did not answer" in page
        assert f'src="/artifacts/{shot.id}/"' in page
        assert f'href="/artifacts/{trace.id}/"' in page and "playwright show-trace" in page
        assert "Payment failed: HTTP 502" in page and "TypeError: pay is undefined" in page
        assert "https://a.example/cart/pay" in page
        assert "ads.example.net is blocked in this monitor" in page
        assert "127.0.0.1 is refused by the network policy" in page


def test_it_draws_the_failing_step_red_at_its_place_on_the_time_axis(world, run):
    monitor, result, _shot, _trace = run
    page = signed_in(world.owner).get(page_url(monitor, result)).content.decode()
    # Step 4 starts at 832.3 of 10,832.3 ms: 76.8 of the bar's 1000 units, in red.
    assert '<rect x="76.8" y="0" width="923.2" height="14" fill="#dc2626"/>' in page
    assert "starts at 832 ms, takes 10,000 ms" in page


def test_it_hides_the_run_and_its_files_from_another_client(world, run):
    monitor, result, shot, trace = run
    browser = signed_in(world.client_b_user)
    assert browser.get(page_url(monitor, result)).status_code == 404
    for artifact in (shot, trace):
        assert browser.get(reverse("front:artifact", args=[artifact.id])).status_code == 404


def test_it_serves_a_screenshot_inline_and_a_trace_as_a_download(world, run):
    _monitor, _result, shot, trace = run
    browser = signed_in(world.client_a_user)
    image = browser.get(reverse("front:artifact", args=[shot.id]))
    assert image.status_code == 200 and image.getvalue() == PNG
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == "inline"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image["Content-Security-Policy"]
    download = browser.get(reverse("front:artifact", args=[trace.id]))
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith('attachment; filename="trace-')
    assert download.getvalue() == TRACE


def test_it_says_when_a_file_is_no_longer_kept(world, run):
    monitor, result, _shot, trace = run
    (artifacts.root() / trace.path).unlink()
    browser = signed_in(world.owner)
    assert browser.get(reverse("front:artifact", args=[trace.id])).status_code == 404
    page = browser.get(page_url(monitor, result)).content.decode()
    assert "The trace is no longer kept." in page


def test_it_reads_a_run_that_never_started(world, run):
    monitor, _result, _shot, _trace = run
    bare = CheckResult.objects.create(
        monitor=monitor,
        checked_at=timezone.now(),
        ok=False,
        failure_class=FailureClass.BROWSER_ERROR,
        details={"steps": "garbage", "failed_step": "x"},
    )
    response = signed_in(world.owner).get(page_url(monitor, bare))
    assert response.status_code == 200
    assert "No step ran" in response.content.decode()


def test_it_has_no_run_page_for_other_kinds(world):
    result = CheckResult.objects.create(monitor=world.monitor_a, checked_at=timezone.now(), ok=True)
    response = signed_in(world.owner).get(page_url(world.monitor_a, result))
    assert response.status_code == 404


def test_it_sums_up_the_latest_run_on_the_monitor_page_and_links_each(world, run):
    monitor, result, _shot, _trace = run
    page = signed_in(world.client_a_user).get(reverse("front:monitor", args=[monitor.pk]))
    text = page.content.decode()
    assert 'id="latest-run"' in text
    assert "Failed at step 4 of 5:" in text
    assert text.count(f'href="{page_url(monitor, result)}"') == 2


def test_it_speaks_polish(world, run):
    monitor, result, _shot, _trace = run
    browser = signed_in(world.owner)
    response = browser.get(page_url(monitor, result), HTTP_ACCEPT_LANGUAGE="pl")
    page = response.content.decode()
    assert "Krok 4" in page and "Steps" not in page


def test_it_says_why_the_step_failed_in_the_readers_language(world, run):
    monitor, result, _shot, _trace = run
    reason = deferred("the address did not become %(pattern)s in %(seconds)s s (it is %(url)s)")
    reason %= {"pattern": "**/order/*", "seconds": 10, "url": "https://a.example/cart"}
    message = deferred("Step %(number)d (%(step)s): %(reason)s")
    result.message = message % {"number": 4, "step": "Pay", "reason": reason}
    result.save()
    expected = {
        "en": "the address did not become **/order/* in 10 s",
        "pl": "adres nie zmienił się na **/order/* w ciągu 10 s",
    }
    for language, text in expected.items():
        response = signed_in(world.owner).get(
            page_url(monitor, result), HTTP_ACCEPT_LANGUAGE=language
        )
        page = response.content.decode()
        # The headline, the failing step's box and its row on the waterfall.
        assert page.count(text) == 3, language
        assert "Payment provider did not answer" not in page, "the runner's English text"
