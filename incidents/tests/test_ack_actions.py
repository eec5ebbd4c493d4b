"""Acknowledge, resolve by hand, notes and details from the web UI and the API: who may do
what (client B: 404; client A's users: 403), what the timeline records and who sees it, and
the postmortem rendered inert."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from api.tests.conftest import ApiCaller
from front.tests.conftest import signed_in
from incidents.actions import AckOutcome, AckVia, acknowledge, add_note
from incidents.models import (
    EscalationRun,
    EscalationStop,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
)
from incidents.tests.escalation_world import T0, come_back, go_down
from monitoring.models import CheckKind, Monitor
from tenancy.models import ApiToken

XSS_POSTMORTEM = """## What happened
<script>alert('pm')</script>
<img src=x onerror="alert('img')">
[harmless](https://status.example/a?b=1) and [bad](javascript:alert('link'))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
![tracker](https://tracker.example/pixel.png)
"""


@pytest.fixture
def api_as():
    """``api_as(user)``: calls the API with a fresh token of that user."""
    return lambda user: ApiCaller(ApiToken.issue(user, "tests")[1])


@pytest.fixture
def incident(world):
    with time_machine.travel(T0, tick=False):
        return go_down(world.monitor_a, T0)


def events(incident: Incident, kind: str) -> list[IncidentEvent]:
    return list(IncidentEvent.objects.filter(incident=incident, kind=kind).order_by("pk"))


# --- the web UI ------------------------------------------------------------------------------


def test_it_acknowledges_from_the_incident_page_once(world, incident):
    browser = signed_in(world.engineer)
    page = browser.get(f"/incidents/{incident.pk}/")
    assert b'action="/incidents/acknowledge/"' in page.content
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        response = browser.post("/incidents/acknowledge/", {"incident": incident.pk})
        browser.post("/incidents/acknowledge/", {"incident": incident.pk})
    assert response.status_code == 302
    [event] = events(incident, EventKind.ACKNOWLEDGED)
    assert (event.actor, event.at, event.details) == (
        world.engineer,
        T0 + timedelta(minutes=1),
        {"via": "web"},
    )
    html = browser.get(f"/incidents/{incident.pk}/").content.decode()
    assert "engineer" in html
    assert 'action="/incidents/acknowledge/"' not in html


def test_it_lets_client_users_read_but_not_act_and_hides_a_from_b(world, incident):
    own, intruder = signed_in(world.client_a_user), signed_in(world.client_b_user)
    for path, data in (
        ("/incidents/acknowledge/", {"incident": incident.pk}),
        ("/incidents/resolve/", {"incident": incident.pk, "note": "x"}),
        ("/incidents/notes/", {"incident": incident.pk, "text": "x"}),
        ("/incidents/details/", {"incident": incident.pk, "severity": "minor"}),
    ):
        assert own.post(path, data).status_code == 403, path
        assert intruder.post(path, data).status_code == 404, path
        assert intruder.post(path, {"incident": "nope"}).status_code == 404, path
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
    assert incident.state == IncidentState.OPEN
    assert incident.severity == "major"
    assert not events(incident, EventKind.NOTE)
    page = own.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'action="/incidents/acknowledge/"' not in page


def test_it_keeps_notes_and_escalation_lines_from_the_client(world, incident):
    add_note(incident, world.owner, "Hosting says the disk is full")
    IncidentEvent.objects.create(
        incident=incident, at=T0, kind=EventKind.ESCALATED, message="Paged owner's phone"
    )
    acknowledge(incident, world.owner, AckVia.WEB)
    agency_page = signed_in(world.engineer).get(f"/incidents/{incident.pk}/").content.decode()
    client_page = signed_in(world.client_a_user).get(f"/incidents/{incident.pk}/").content.decode()
    assert "Hosting says the disk is full" in agency_page
    assert "Paged owner" in agency_page
    assert "Hosting says the disk is full" not in client_page
    assert "Paged owner" not in client_page
    assert "Acknowledged" in client_page


def test_it_resolves_by_hand_while_the_monitor_is_down(world, incident):
    EscalationRun.objects.create(
        incident=incident, policy_name="Ops", steps=[], started_at=T0, next_at=T0
    )
    browser = signed_in(world.owner)
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        browser.post("/incidents/resolve/", {"incident": incident.pk, "note": "known, vendor"})
        again = browser.post("/incidents/resolve/", {"incident": incident.pk}, follow=True)
    assert b"already resolved" in again.content
    incident.refresh_from_db()
    assert (incident.state, incident.resolved_at) == (
        IncidentState.RESOLVED,
        T0 + timedelta(minutes=30),
    )
    [event] = events(incident, EventKind.RESOLVED)
    assert (event.actor, event.message) == (world.owner, "known, vendor")
    assert event.details == {"manual": True, "monitor_down": True}
    [closed] = Notification.objects.filter(incident=incident, event=EventKind.RESOLVED)
    assert closed.title.startswith("[CLOSED]")
    assert "still down" in closed.body
    assert EscalationRun.objects.get(incident=incident).stop_reason == EscalationStop.RESOLVED

    # The monitor recovers later: nothing more for this incident; a new outage opens anew.
    come_back(world.monitor_a, T0 + timedelta(hours=1))
    assert Notification.objects.filter(incident=incident).count() == 2
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        fresh = go_down(world.monitor_a, T0 + timedelta(hours=2))
    assert fresh.pk != incident.pk


def test_it_saves_the_details_and_names_the_field_it_refuses(world, incident):
    browser = signed_in(world.engineer)
    other_a = Monitor.objects.create(
        site=world.site_a, name="Checkout", kind=CheckKind.HTTP, url="https://a.example/c"
    )
    refused = browser.post(
        "/incidents/details/",
        {
            "incident": incident.pk,
            "severity": "critical",
            "affected_monitors": [world.monitor_b.pk],
        },
    )
    assert refused.status_code == 200
    assert "field--error" in refused.content.decode()
    incident.refresh_from_db()
    assert incident.severity == "major"  # nothing half-written

    browser.post(
        "/incidents/details/",
        {
            "incident": incident.pk,
            "severity": "critical",
            "affected_monitors": [other_a.pk],
            "root_cause": "Disk full on the database host",
            "postmortem": "We added **alerts** on disk space.",
        },
    )
    incident.refresh_from_db()
    assert incident.severity == "critical"
    assert incident.root_cause == "Disk full on the database host"
    assert list(incident.affected_monitors.all()) == [other_a]
    [severity] = events(incident, EventKind.SEVERITY_CHANGED)
    assert severity.details == {"from": "major", "to": "critical"}
    [updated] = events(incident, EventKind.UPDATED)
    assert updated.details == {"fields": ["affected_monitors", "postmortem", "root_cause"]}
    assert updated.actor == world.engineer
    client_page = signed_in(world.client_a_user).get(f"/incidents/{incident.pk}/").content.decode()
    assert "Disk full on the database host" in client_page
    assert "<strong>alerts</strong>" in client_page
    assert "Checkout" in client_page


def test_it_renders_the_postmortem_inert(world, incident):
    Incident.objects.filter(pk=incident.pk).update(postmortem=XSS_POSTMORTEM)
    for user in (world.owner, world.client_a_user):
        html = signed_in(user).get(f"/incidents/{incident.pk}/").content.decode()
        rendered = html.split('<div class="postmortem">', 1)[1].split("</div>", 1)[0]
        assert "<h2>What happened</h2>" in rendered
        assert "<script" not in rendered
        assert "&lt;script&gt;" in rendered
        assert "<img" not in rendered
        assert "javascript:" not in rendered.replace("[bad](javascript:", "")
        assert 'href="javascript' not in rendered
        assert 'href="data:' not in rendered
        assert 'src="https://tracker.example' not in rendered  # at most a link, never fetched
        assert 'href="https://status.example/a?b=1" rel="nofollow noopener noreferrer"' in rendered


# --- the API ---------------------------------------------------------------------------------


def test_it_acknowledges_resolves_and_notes_through_the_api(world, incident, api_as):
    owner = api_as(world.owner)
    acked = owner.post(f"/incidents/{incident.pk}/acknowledge", {})
    assert acked.status_code == 200, acked.content
    assert acked.json()["acknowledged_by"] == "owner"
    assert owner.post(f"/incidents/{incident.pk}/acknowledge", {}).status_code == 409

    note = owner.post(f"/incidents/{incident.pk}/notes", {"text": "Calling the host"})
    assert note.status_code == 201
    assert (note.json()["kind"], note.json()["actor"]) == ("note", "owner")

    resolved = owner.post(f"/incidents/{incident.pk}/resolve", {"note": "Host fixed it"})
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["state"] == "resolved"
    kinds = [(e["kind"], e["actor"]) for e in body["events"]]
    assert ("acknowledged", "owner") in kinds
    assert ("note", "owner") in kinds
    assert kinds[-1] == ("resolved", "owner")
    assert owner.post(f"/incidents/{incident.pk}/resolve", {}).status_code == 409

    client_view = api_as(world.client_a_user).get(f"/incidents/{incident.pk}").json()
    assert "note" not in [e["kind"] for e in client_view["events"]]


def test_it_refuses_client_users_and_bad_fields_in_the_api(world, incident, api_as):
    own, intruder, owner = (
        api_as(world.client_a_user),
        api_as(world.client_b_user),
        api_as(world.owner),
    )
    # Each action's own body: an unknown field would be refused (422) before anything else.
    for path, body in (("acknowledge", {}), ("resolve", {"note": "x"}), ("notes", {"text": "x"})):
        url = f"/incidents/{incident.pk}/{path}"
        assert own.post(url, body).status_code == 403, path
        assert intruder.post(url, body).status_code == 404, path
    assert own.patch(f"/incidents/{incident.pk}", {"root_cause": "x"}).status_code == 403

    bad = owner.patch(f"/incidents/{incident.pk}", {"affected_monitors": [world.monitor_b.pk]})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["affected_monitors"]
    assert "Not a monitor of this client" in bad.json()["errors"][0]["message"]
    wrong = owner.patch(f"/incidents/{incident.pk}", {"severity": "apocalyptic"})
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["severity"]
    empty = owner.post(f"/incidents/{incident.pk}/notes", {"text": ""})
    assert [e["field"] for e in empty.json()["errors"]] == ["text"]

    ok = owner.patch(
        f"/incidents/{incident.pk}",
        {"postmortem": "<script>x()</script> [a](javascript:x())", "severity": "minor"},
    )
    assert ok.status_code == 200
    html = ok.json()["postmortem_html"]
    assert "<script" not in html
    assert "javascript:" not in html.replace("[a](javascript:x())", "")
    assert ok.json()["severity"] == "minor"
    assert ok.json()["affected_monitors"] == [world.monitor_a.pk]
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_it_lets_one_of_two_simultaneous_acknowledgements_win(world, incident):
    stale = Incident.objects.get(pk=incident.pk)
    assert acknowledge(incident, world.owner, AckVia.WEB) == AckOutcome.ACKNOWLEDGED
    assert acknowledge(stale, world.engineer, AckVia.API) == AckOutcome.ALREADY
    incident.refresh_from_db()
    assert incident.acknowledged_by == world.owner
    assert len(events(incident, EventKind.ACKNOWLEDGED)) == 1
