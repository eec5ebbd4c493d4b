"""Editing escalation policies and personal channels from the domain, the web UI and the API:
every refusal names its field and writes nothing; only owners and engineers get in."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from api.tests.conftest import ApiCaller
from front.tests.conftest import signed_in
from incidents.escalation_edit import PolicySpec, StepSpec, save_policy
from incidents.models import (
    Channel,
    EscalationPolicy,
    EscalationStep,
    Notification,
    OnCallSchedule,
    PolicyAssignment,
)
from incidents.tests.escalation_world import T0, go_down, make_policy
from incidents.tests.receivers import WebhookReceiver
from tenancy.models import ApiToken, Client, Organization


@pytest.fixture
def api_as():
    """``api_as(user)``: calls the API with a fresh token of that user."""
    return lambda user: ApiCaller(ApiToken.issue(user, "tests")[1])


def refusal(policy: EscalationPolicy, spec: PolicySpec) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        save_policy(policy, spec)
    return caught.value.message_dict


def test_it_names_every_refused_field_and_writes_nothing(world):
    other = Organization.objects.create(name="Other", slug="other")
    foreign_schedule = OnCallSchedule.objects.create(organization=other, name="Theirs")
    foreign_client = Client.objects.create(organization=other, name="X", slug="x")
    make_policy(world, [StepSpec(5, users=[world.owner.pk])], name="Taken")
    spec = PolicySpec(
        name="Taken",
        repeat=42,
        steps=[
            StepSpec(0),
            StepSpec(
                5,
                users=[world.client_a_user.pk],
                schedules=[foreign_schedule.pk],
                channels=[999_999],
            ),
        ],
        clients=[foreign_client.pk],
    )
    errors = refusal(EscalationPolicy(organization=world.agency), spec)
    assert set(errors) == {
        "name",
        "repeat",
        "steps.0.wait_minutes",
        "steps.0.channels",
        "steps.1.users",
        "steps.1.schedules",
        "steps.1.channels",
        "clients",
    }
    assert EscalationPolicy.objects.count() == 1
    assert EscalationStep.objects.count() == 1
    assert "steps" in refusal(EscalationPolicy(organization=world.agency), PolicySpec("New"))


def test_it_refuses_personal_channels_as_step_channels(world):
    phone = Channel.objects.create(
        organization=world.agency, user=world.owner, name="Owner phone", url="json://x.example/"
    )
    spec = PolicySpec("P", steps=[StepSpec(5, channels=[phone.pk])])
    assert set(refusal(EscalationPolicy(organization=world.agency), spec)) == {"steps.0.channels"}


def test_it_moves_the_default_flag_and_the_assignments(world):
    first = make_policy(world, [StepSpec(5, users=[world.owner.pk])], name="First")
    second = make_policy(
        world, [StepSpec(5, users=[world.owner.pk])], name="Second", clients=[world.client_a.pk]
    )
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    third = make_policy(
        world,
        [StepSpec(5, users=[world.owner.pk])],
        name="Third",
        is_default=False,
        clients=[world.client_a.pk],
        sites=[world.site_b.pk],
    )
    assert PolicyAssignment.objects.get(client=world.client_a).policy == third
    assert PolicyAssignment.objects.get(site=world.site_b).policy == third
    save_policy(third, PolicySpec("Third", steps=[StepSpec(5, users=[world.owner.pk])]))
    assert not PolicyAssignment.objects.exists()


# --- the web UI ------------------------------------------------------------------------------


def form_data(**fields):
    data = {
        "name": "Nights",
        "repeat": "1",
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "10",
        "form-0-wait_minutes": "5",
        "form-1-wait_minutes": "15",
    }
    data.update(fields)
    return data


def test_it_creates_and_edits_a_policy_in_the_web_ui(world):
    schedule = OnCallSchedule.objects.create(organization=world.agency, name="Primary")
    browser = signed_in(world.engineer)
    assert browser.get("/escalation/new/").status_code == 200
    response = browser.post(
        "/escalation/new/",
        form_data(
            **{
                "form-0-users": [str(world.owner.pk)],
                "form-1-schedules": [str(schedule.pk)],
                "clients": [str(world.client_a.pk)],
            }
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = EscalationPolicy.objects.get(name="Nights")
    steps = list(policy.steps.order_by("position"))
    assert [(s.wait_minutes, list(s.users.all())) for s in steps] == [
        (5, [world.owner]),
        (15, []),
    ]
    assert list(steps[1].schedules.all()) == [schedule]
    assert PolicyAssignment.objects.get(client=world.client_a).policy == policy

    page = browser.get(f"/escalation/{policy.pk}/").content.decode()
    assert 'value="Nights"' in page
    listing = browser.get("/escalation/").content.decode()
    assert "Nights" in listing and "Client A" in listing

    # Editing: step 1 kept as it was, step 2 removed, an extra form left empty.
    browser.post(
        f"/escalation/{policy.pk}/",
        form_data(
            **{
                "form-TOTAL_FORMS": "3",
                "form-INITIAL_FORMS": "2",
                "form-0-users": [str(world.owner.pk)],
                "form-1-schedules": [str(schedule.pk)],
                "form-1-DELETE": "on",
                "form-2-wait_minutes": "15",
            }
        ),
    )
    assert [s.wait_minutes for s in policy.steps.order_by("position")] == [5]
    assert not PolicyAssignment.objects.exists()  # no client chosen any more


def test_it_shows_the_refusal_on_the_step_it_concerns(world):
    browser = signed_in(world.owner)
    response = browser.post(
        "/escalation/new/",
        form_data(**{"form-0-users": [str(world.owner.pk)], "form-1-wait_minutes": "20"}),
    )
    assert response.status_code == 200
    html = response.content.decode()
    step_2 = html.split("Step 2", 1)[1]
    assert "Page at least one channel, person or schedule." in step_2
    assert not EscalationPolicy.objects.exists()


def test_it_keeps_client_users_out_of_policies(world):
    policy = make_policy(world, [StepSpec(5, users=[world.owner.pk])])
    for user in (world.client_a_user, world.client_b_user):
        browser = signed_in(user)
        for path in ("/escalation/", "/escalation/new/", f"/escalation/{policy.pk}/"):
            assert browser.get(path).status_code == 404, path
        assert browser.post("/escalation/delete/", {"policy": policy.pk}).status_code == 404
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()
    signed_in(world.owner).post("/escalation/delete/", {"policy": policy.pk})
    assert not EscalationPolicy.objects.exists()


def test_it_adds_and_deletes_personal_channels_on_the_profile(world):
    browser = signed_in(world.engineer)
    bad = browser.post("/profile/channels/", {"name": "Phone", "url": "nonsense://"})
    assert "not a valid Apprise URL" in bad.content.decode()
    assert "nonsense" not in bad.content.decode().split("field__error")[1][:200]
    browser.post("/profile/channels/", {"name": "Phone", "url": "ntfy://ntfy.example/pager"})
    channel = Channel.objects.get(name="Phone")
    assert channel.user == world.engineer
    page = browser.get("/profile/").content.decode()
    assert "Phone" in page and "pager" not in page  # the address shows redacted only

    for action in ("test", "delete"):
        refused = signed_in(world.owner).post(
            "/profile/channels/act/", {"channel": channel.pk, "action": action}
        )
        assert refused.status_code == 404  # not the owner's own
    client_user = signed_in(world.client_a_user)
    assert (
        client_user.post("/profile/channels/", {"name": "X", "url": "json://x"}).status_code == 404
    )
    assert "Your alert channels" not in client_user.get("/profile/").content.decode()
    browser.post("/profile/channels/act/", {"channel": channel.pk, "action": "delete"})
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_it_sends_a_test_to_a_personal_channel(world):
    world.agency.ssrf_allowlist = "127.0.0.0/8"  # the receiver is on loopback
    world.agency.save()
    receiver = WebhookReceiver().start()
    try:
        browser = signed_in(world.engineer)
        browser.post("/profile/channels/", {"name": "Pager", "url": receiver.url("/pager")})
        channel = Channel.objects.get(name="Pager")
        done = browser.post(
            "/profile/channels/act/", {"channel": channel.pk, "action": "test"}, follow=True
        )
        assert "The test message was delivered." in done.content.decode()
        [request] = receiver.requests
        assert request.path == "/pager"
        assert "[TEST]" in request.json()["title"]
    finally:
        receiver.stop()


def test_it_sends_ordinary_alerts_to_no_personal_channel(world):
    phone = Channel.objects.create(
        organization=world.agency, user=world.owner, name="Owner phone", url="json://x.example/"
    )
    with time_machine.travel(T0, tick=False):
        incident = go_down(world.monitor_a, T0)
    assert Notification.objects.filter(incident=incident).exists()
    assert not Notification.objects.filter(channel=phone).exists()


# --- the API ---------------------------------------------------------------------------------


def test_it_writes_policies_through_the_api(world, api_as):
    owner = api_as(world.owner)
    body = {
        "name": "Days",
        "repeat": 2,
        "steps": [{"wait_minutes": 3, "users": [world.engineer.pk]}, {"users": [world.owner.pk]}],
        "sites": [world.site_a.pk],
    }
    created = owner.post("/escalation-policies", body)
    assert created.status_code == 201, created.content
    out = created.json()
    assert [s["users"] for s in out["steps"]] == [[world.engineer.pk], [world.owner.pk]]
    assert (out["repeat"], out["sites"], out["steps"][1]["wait_minutes"]) == (
        2,
        [world.site_a.pk],
        15,
    )

    refused = owner.put(
        f"/escalation-policies/{out['id']}",
        {**body, "steps": [{"users": [world.client_b_user.pk]}]},
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["steps.0.users"]
    assert owner.get(f"/escalation-policies/{out['id']}").json()["steps"] == out["steps"]

    for user in (world.client_a_user, world.client_b_user):
        caller = api_as(user)
        assert caller.get("/escalation-policies").status_code == 404
        assert caller.post("/escalation-policies", body).status_code == 404
    assert owner.delete(f"/escalation-policies/{out['id']}").status_code == 204


def test_it_manages_personal_channels_through_the_api(world, api_as):
    engineer = api_as(world.engineer)
    created = engineer.post("/me/channels", {"name": "Eng pager", "url": "json://x.example/p"})
    assert created.status_code == 201, created.content
    channel_id = created.json()["id"]
    assert [c["id"] for c in engineer.get("/me/channels").json()["items"]] == [channel_id]
    duplicate = engineer.post("/me/channels", {"name": "Eng pager", "url": "json://x.example/"})
    assert [e["field"] for e in duplicate.json()["errors"]] == ["name"]
    invalid = engineer.post("/me/channels", {"name": "Other", "url": "nonsense://"})
    assert [e["field"] for e in invalid.json()["errors"]] == ["url"]

    owner = api_as(world.owner)
    assert owner.get(f"/me/channels/{channel_id}").status_code == 404  # not the owner's
    assert owner.delete(f"/me/channels/{channel_id}").status_code == 404
    assert api_as(world.client_a_user).get("/me/channels").status_code == 404
    assert engineer.delete(f"/me/channels/{channel_id}").status_code == 204
