"""Unknown time is a plan's policy: left out (the default), counted as up, or counted as down;
one validator for the API, config as code and the plan form, and the figures follow it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from api.tests.conftest import ApiCaller, field_errors
from core.configcode import apply_config, export_config
from core.tests.configcode_support import refused
from front.tests.conftest import signed_in
from monitoring.models import EngineRun
from sla.models import CarePlan, UnknownTime
from sla.periods import parse_period
from sla.report import client_sla
from sla.tests.plan_world import on_example_plan, watched
from sla.verdicts import Verdict
from tenancy.models import ApiToken, Membership, Organization

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)
OCTOBER = parse_period("2026-10", "Europe/Warsaw")
REFUSAL = "Value 'sideways' is not a valid choice."
DOCUMENT = """\
version: 1
agency: {slug: planned, name: Planned}
plans:
  - slug: office
    name: Office
    availability_target: 99.5
    unknown_time: up
"""


@pytest.fixture
def owner_api(world) -> ApiCaller:
    _token, raw = ApiToken.issue(world.owner, "tests")
    return ApiCaller(raw)


def test_it_takes_the_policy_through_the_api_and_refuses_others_naming_the_field(world, owner_api):
    body = {"slug": "basic", "name": "Basic", "availability_target": "99.5"}
    created = owner_api.post("/plans", body)
    assert created.status_code == 201, created.content
    assert created.json()["unknown_time"] == "excluded"  # the default, today's behaviour
    plan_id = created.json()["id"]
    assert owner_api.patch(f"/plans/{plan_id}", {"unknown_time": "down"}).json()[
        "unknown_time"
    ] == ("down")
    assert CarePlan.objects.get(pk=plan_id).unknown_time == UnknownTime.DOWN
    errors = field_errors(owner_api.patch(f"/plans/{plan_id}", {"unknown_time": "sideways"}))
    assert errors == {"unknown_time": REFUSAL}
    assert CarePlan.objects.get(pk=plan_id).unknown_time == UnknownTime.DOWN


def test_it_takes_the_policy_in_config_as_code_with_a_diff_and_an_export(db):
    apply_config(DOCUMENT)
    plan = CarePlan.objects.get(slug="office")
    assert plan.unknown_time == UnknownTime.UP
    [issue] = refused(DOCUMENT.replace("unknown_time: up", "unknown_time: sideways")).issues
    assert (issue.path, issue.message) == ("plans[0].unknown_time", REFUSAL)
    report = apply_config(DOCUMENT.replace("unknown_time: up", "unknown_time: down"), dry_run=True)
    assert [c.render() for c in report.changes] == [
        '~ care plan office\n    unknown_time: "up" → "down"'
    ]
    assert CarePlan.objects.get(slug="office").unknown_time == UnknownTime.UP
    text = export_config(Organization.objects.get(slug="planned"))
    assert "unknown_time: up" in text
    assert apply_config(text).is_empty


@pytest.fixture
def unwatched(world):
    """Client A on the seasonal-shop plan (99.9 %, Warsaw), up since September; no probe
    engine ran from 10:00 to 12:00 UTC on 3 October: two hours nobody watched."""
    plan = on_example_plan(world)
    since = datetime(2026, 9, 1, tzinfo=UTC)
    watched(world.monitor_a, since, (since, "unknown", "up"))
    gap_start, gap_end = (
        datetime(2026, 10, 3, 10, tzinfo=UTC),
        datetime(2026, 10, 3, 12, tzinfo=UTC),
    )
    EngineRun.objects.create(
        started_at=since, last_seen_at=gap_start, stopped_at=gap_start, host="h", pid=1
    )
    EngineRun.objects.create(started_at=gap_end, last_seen_at=NOW, host="h", pid=2)
    return plan


@time_machine.travel(NOW, tick=False)
def test_it_counts_unwatched_time_as_the_plan_says(world, unwatched):
    expected = {
        UnknownTime.EXCLUDED: ("100.000", Verdict.ON_TRACK, timedelta(0)),
        UnknownTime.UP: ("100.000", Verdict.ON_TRACK, timedelta(0)),
        # Two hours counted down exceed October's 44 min 42 s: missed for certain.
        UnknownTime.DOWN: ("98.181", Verdict.MISSED, timedelta(hours=2)),  # 108 h of 110 h
    }
    for policy, (shown, judged, consumed) in expected.items():
        CarePlan.objects.filter(pk=unwatched.pk).update(unknown_time=policy)
        window = client_sla(world.client_a, OCTOBER, now=NOW).window
        assert window is not None
        assert window.figures.unknown == timedelta(hours=2), policy
        assert (window.figures.percent_display(), window.verdict) == (shown, judged), policy
        assert window.budget.consumed == consumed, policy


@time_machine.travel(NOW, tick=False)
def test_it_says_which_policy_applies_on_the_page_in_the_api_and_the_cli(world, unwatched):
    CarePlan.objects.filter(pk=unwatched.pk).update(unknown_time=UnknownTime.UP)
    html = signed_in(world.owner).get(reverse("front:client_sla", args=[world.client_a.pk]))
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.content.decode()))
    assert "unknown time counted as up" in words
    assert "This plan counts it as up" in words
    _token, raw = ApiToken.issue(world.owner, "tests")
    answer = ApiCaller(raw).get(f"/clients/{world.client_a.pk}/sla").json()
    assert answer["plan"]["unknown_time"] == "up"
    assert answer["figures"]["unknown_time"] == "up"
    assert answer["window"]["figures"]["unknown_time"] == "up"
    out = StringIO()
    call_command("sla", "--client", "client-a", stdout=out)
    assert re.search(r"Unknown time in the figure\s+Counted as up", out.getvalue())
    out = StringIO()
    call_command("sla", "--client", "client-a", "--json", stdout=out)
    assert json.loads(out.getvalue()) == answer


def test_it_words_the_policy_as_it_is_computed_in_the_plan_editor_and_on_the_page(world, unwatched):
    """Review M9 and L8: "counted as up" still leaves out the time before the first monitor,
    and the editor says so; its label is capitalised; the editor warns that changed terms
    re-judge closed windows; the page's heading says "judged by the month"."""
    editor = signed_in(world.owner).get(reverse("front:plan", args=[unwatched.pk]))
    said = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", editor.content.decode())))
    assert "Unknown time" in said and "unknown time</label>" not in editor.content.decode()
    assert "Time before the client's first monitor is left out whatever this says" in said
    assert "total time minus downtime from the first monitor on" in said
    assert "Changed terms apply to every window this plan has judged, closed ones too" in said
    CarePlan.objects.filter(pk=unwatched.pk).update(unknown_time=UnknownTime.UP)
    with time_machine.travel(NOW, tick=False):
        html = signed_in(world.owner).get(reverse("front:client_sla", args=[world.client_a.pk]))
    words = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.content.decode())))
    assert "Time before the client's first monitor (not monitored yet) is still left out" in words
    assert "Care plan Seasonal shop: 99.9 %, judged by the month" in words
    CarePlan.objects.filter(pk=unwatched.pk).update(unknown_time=UnknownTime.EXCLUDED)
    Membership.objects.filter(user=world.engineer).update(language="pl")
    polish = signed_in(world.engineer).get(reverse("front:plan", args=[unwatched.pk]))
    said = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", polish.content.decode())))
    assert "Pomijany (ani jako dostępność, ani jako niedostępność)" in said
    assert "Czas nieznany" in said
