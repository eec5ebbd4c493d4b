"""A client B user gets 404 for every page of client A that takes an id.

The walk reads the URL patterns themselves, so a page added later without a mapping here
fails the test instead of going unchecked.
"""

from __future__ import annotations

from datetime import date, time

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from incidents.models import Channel, EscalationPolicy, MaintenanceWindow
from incidents.models.oncall import OnCallSchedule
from incidents.tests.statuspages import status_walk_objects
from monitoring.browser import artifacts
from monitoring.models import ArtifactKind, CheckKind, CheckResult, Monitor, Tag
from sla.models import CarePlan


def patterns_with_ids(
    patterns: list[URLPattern | URLResolver], namespace: str = "front"
) -> list[tuple[str, list[str]]]:
    """(url name, id parameter names) of every pattern that takes a parameter."""
    found: list[tuple[str, list[str]]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += patterns_with_ids(entry.url_patterns, namespace)
            continue
        converters = getattr(entry.pattern, "converters", {})
        if converters:
            assert entry.name, f"pattern {entry.pattern} takes an id but has no name"
            found.append((f"{namespace}:{entry.name}", list(converters)))
    return found


def client_a_objects(world, incident_a) -> dict[str, object]:
    return {
        "client_id": world.client_a,
        "site_id": world.site_a,
        "monitor_id": world.monitor_a,
        "incident_id": incident_a,
        **status_walk_objects(world, incident_a),
        "channel_id": Channel.objects.get(name="A hook"),
        # The agency's own (see AGENCY_ONLY): no client owns a schedule.
        "schedule_id": OnCallSchedule.objects.create(organization=world.agency, name="Walk"),
        "policy_id": EscalationPolicy.objects.create(organization=world.agency, name="Walk"),
        "tag_id": Tag.objects.create(organization=world.agency, name="Walk"),
        "plan_id": CarePlan.objects.create(
            organization=world.agency, name="Walk", slug="walk", availability_target=99
        ),
        "window_id": MaintenanceWindow.objects.create(
            client=world.client_a,
            title="Upgrade",
            start_date=date(2026, 1, 4),
            start_time=time(2),
            duration_minutes=60,
        ),
    }


# Pages of the agency's own objects (on-call schedules, tags): every client user gets 404.
AGENCY_ONLY = {
    "front:oncall_schedule",
    "front:oncall_edit",
    "front:escalation_policy",
    "front:plan",
    # Forms that change clients, sites and monitors: agency members only.
    "front:client_edit",
    "front:client_delete",
    "front:site_new",
    "front:site_edit",
    "front:site_delete",
    "front:monitor_new",
    "front:monitor_edit",
    "front:monitor_clone",
    "front:monitor_delete",
    "front:tag",
}
# Actions with no page (POST only): walked with a POST; client users get 404 all the same.
POST_ONLY = {"front:monitor_pause", "front:monitor_resume", "front:monitor_test"}
# Reached by a signed secret in the URL, not a session: incidents/tests/test_oncall_views.py
# checks that a forged or stale one is 404.
# The same for ack links: incidents/tests/test_ack_link.py.
BY_SECRET = {"front:oncall_ical", "front:incident_ack_link"}
# Pages of one kind of monitor only (another kind's id is not found): walked with a monitor of
# client A of that kind.
KIND_PAGES = {
    "front:monitor_speed": CheckKind.SPEED,
    "front:transaction_result": CheckKind.TRANSACTION,
}


def transaction_run_objects(monitor: Monitor) -> dict[str, object]:
    """A run of client A's transaction monitor, and the screenshot it kept."""
    at = timezone.now()
    screenshot = artifacts.keep(monitor.pk, at, ArtifactKind.SCREENSHOT, data=b"\x89PNG\r\n")
    run = CheckResult.objects.create(
        monitor=monitor,
        checked_at=at,
        ok=True,
        details={"steps": [], "failed_step": None, "artifacts": []},
    )
    return {"result_id": run, "artifact_id": screenshot}


def test_it_answers_404_to_client_b_for_every_client_a_page_with_an_id(world, incident_a):
    objects = client_a_objects(world, incident_a)
    kind_monitors = {
        name: Monitor.objects.create(
            site=world.site_a, name=f"Walk {kind}", kind=kind, url="https://a.example/"
        )
        for name, kind in KIND_PAGES.items()
    }
    objects |= transaction_run_objects(kind_monitors["front:transaction_result"])
    walked = patterns_with_ids(get_resolver("front.urls").url_patterns)
    assert len(walked) >= 4  # the walk is not vacuous
    intruder = signed_in(world.client_b_user)
    owner = signed_in(world.owner)
    own_user = signed_in(world.client_a_user)
    for name, params in walked:
        if name in BY_SECRET:
            continue
        missing = [p for p in params if p not in objects]
        assert not missing, f"{name}: no client A object mapped for {missing}"
        mapped = {**objects, "monitor_id": kind_monitors[name]} if name in KIND_PAGES else objects
        url = reverse(name, kwargs={p: mapped[p].pk for p in params})  # type: ignore[attr-defined]
        if name in POST_ONLY:
            assert intruder.post(url, {"kind": "http"}).status_code == 404, url
            assert own_user.post(url, {"kind": "http"}).status_code == 404, url
            assert owner.post(url, {"kind": "http"}).status_code in (200, 302), url
            continue
        assert intruder.get(url).status_code == 404, url
        assert owner.get(url).status_code == 200, url
        assert own_user.get(url).status_code == (404 if name in AGENCY_ONLY else 200), url


def test_it_answers_404_for_ids_that_do_not_exist(world):
    browser = signed_in(world.owner)
    for name in ("front:client", "front:site", "front:monitor", "front:incident"):
        params = [
            p
            for n, ps in patterns_with_ids(get_resolver("front.urls").url_patterns)
            if n == name
            for p in ps
        ]
        url = reverse(name, kwargs=dict.fromkeys(params, 999_999))
        assert browser.get(url).status_code == 404, url


def test_it_keeps_client_b_out_of_client_a_in_lists(world, incident_a):
    intruder = signed_in(world.client_b_user)
    for name in ("front:dashboard", "front:incidents", "front:channels", "front:monitors"):
        html = intruder.get(reverse(name)).content.decode()
        assert "Client A" not in html, name
        assert "Shop A" not in html, name
        assert "A hook" not in html, name
