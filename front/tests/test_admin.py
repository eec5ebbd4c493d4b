"""The back-office admin: secrets stay hidden, engine-owned columns stay untouched."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client as HttpClient
from django.urls import reverse

from front.tests.conftest import signed_in_superuser
from incidents.models import Channel, Incident
from monitoring.models import Monitor, MonitorState
from tenancy import throttle
from tenancy.models import ApiToken, TwoFactor
from tenancy.tests.test_two_factor import enrolled

SECRET_URL = "json://hook.example/secret-path-TOKEN123"


@pytest.fixture
def staff(world) -> HttpClient:
    return signed_in_superuser()


def channel_form(channel: Channel, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "organization": channel.organization_id,
        "client": channel.client_id or "",
        "name": channel.name,
        "url": "",
        "enabled": "on",
    }
    data.update(changes)
    return data


def test_it_opens_every_admin_list(staff, world):
    Incident.objects.create(monitor=world.monitor_a, opened_at=world.monitor_a.created_at)
    ApiToken.issue(world.owner, "cli")
    for model in [
        "tenancy/organization",
        "tenancy/client",
        "tenancy/membership",
        "tenancy/apitoken",
        "tenancy/signinthrottle",
        "tenancy/twofactor",
        "auth/user",
        "sites/site",
        "monitoring/monitor",
        "monitoring/checkresult",
        "monitoring/statechange",
        "incidents/incident",
        "incidents/channel",
        "incidents/notification",
    ]:
        assert staff.get(f"/admin/{model}/").status_code == 200, model


def test_it_never_shows_a_channel_url_in_full(staff, world):
    channel = Channel.objects.get(name="A hook")
    channel.url = SECRET_URL
    channel.save()
    for url in (
        reverse("admin:incidents_channel_changelist"),
        reverse("admin:incidents_channel_change", args=[channel.pk]),
    ):
        html = staff.get(url).content.decode()
        assert "TOKEN123" not in html
        assert "json://hook.example/***" in html


def test_it_keeps_a_channel_url_when_the_field_is_left_empty(staff, world):
    channel = Channel.objects.get(name="A hook")
    channel.url = SECRET_URL
    channel.save()
    url = reverse("admin:incidents_channel_change", args=[channel.pk])
    response = staff.post(url, channel_form(channel, name="Renamed"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.url) == ("Renamed", SECRET_URL)


def test_it_refuses_a_bad_channel_url_without_repeating_it(staff, world):
    channel = Channel.objects.get(name="A hook")
    url = reverse("admin:incidents_channel_change", args=[channel.pk])
    response = staff.post(url, channel_form(channel, url="nonsense-SECRET-9"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "not a valid Apprise URL" in html
    assert "nonsense-SECRET-9" not in html


def test_it_shows_api_tokens_without_their_hash(staff, world):
    token, raw = ApiToken.issue(world.owner, "cli")
    html = staff.get(reverse("admin:tenancy_apitoken_change", args=[token.pk])).content.decode()
    assert token.hint in html
    assert token.token_hash not in html
    assert raw not in html
    assert staff.get(reverse("admin:tenancy_apitoken_add")).status_code == 403


def monitor_form(world, **changes: object) -> dict[str, object]:
    monitor = world.monitor_a
    data: dict[str, object] = {
        "site": monitor.site_id,
        "name": monitor.name,
        "kind": monitor.kind,
        "url": monitor.url,
        "config": "{}",
        "interval_s": 60,
        "timeout_s": 10,
        "confirm_down": 2,
        "confirm_up": 2,
        "recheck_s": 10,
        "enabled": "on",
    }
    data.update(changes)
    return data


def test_it_refuses_a_monitor_the_network_policy_denies(staff, world):
    url = reverse("admin:monitoring_monitor_change", args=[world.monitor_a.pk])
    response = staff.post(url, monitor_form(world, url="http://127.0.0.1/"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]
    response = staff.post(url, monitor_form(world, config='{"colour": "red"}'))
    assert "colour" in str(response.context["adminform"].form.errors["config"])


def test_it_saves_a_monitor_without_touching_the_engine_s_columns(staff, world):
    url = reverse("admin:monitoring_monitor_change", args=[world.monitor_a.pk])
    staff.get(url)
    # The engine flips the monitor after the form was loaded.
    type(world.monitor_a).objects.filter(pk=world.monitor_a.pk).update(
        state=MonitorState.DOWN, last_response_ms=999.0
    )
    response = staff.post(url, monitor_form(world, name="Homepage", interval_s=120))
    assert response.status_code == 302
    world.monitor_a.refresh_from_db()
    assert (world.monitor_a.name, world.monitor_a.interval_s) == ("Homepage", 120)
    assert world.monitor_a.state == MonitorState.DOWN
    assert world.monitor_a.last_response_ms == 999.0


HTTP_SECRETS = {"bearer_token": "tok-ADMIN-55", "headers": {"X-Api-Key": "key-ADMIN-66"}}


def test_it_shows_secret_monitor_options_masked_and_keeps_them(staff, world):
    Monitor.objects.filter(pk=world.monitor_a.pk).update(config=HTTP_SECRETS)
    url = reverse("admin:monitoring_monitor_change", args=[world.monitor_a.pk])
    page = staff.get(url)
    html = page.content.decode()
    assert "tok-ADMIN-55" not in html and "key-ADMIN-66" not in html
    shown = page.context["adminform"].form["config"].value()
    assert json.loads(shown) == {"bearer_token": "***", "headers": {"X-Api-Key": "***"}}

    masked = '{"bearer_token": "***", "headers": {"X-Api-Key": "***", "X-Env": "prod"}}'
    assert staff.post(url, monitor_form(world, config=masked)).status_code == 302
    assert Monitor.objects.get(pk=world.monitor_a.pk).config == {
        "bearer_token": "tok-ADMIN-55",
        "headers": {"X-Api-Key": "key-ADMIN-66", "X-Env": "prod"},
    }


def test_it_masks_secret_monitor_options_on_a_view_only_page(world):
    Monitor.objects.filter(pk=world.monitor_a.pk).update(config=HTTP_SECRETS)
    viewer = User.objects.create_user("viewer", password="correct-horse-battery-9", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_monitor"))
    browser = HttpClient()
    browser.login(username="viewer", password="correct-horse-battery-9")
    page = browser.get(reverse("admin:monitoring_monitor_change", args=[world.monitor_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "tok-ADMIN-55" not in html and "key-ADMIN-66" not in html
    assert "X-Api-Key" in html


def test_it_signs_in_to_the_admin_only_through_the_throttled_sign_in_page(world):
    User.objects.create_superuser("root", "root@example.com", "correct-horse-battery-9")
    browser = HttpClient()
    # The admin's own form would be a second door: a POST there signs nobody in.
    door = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "correct-horse-battery-9", "next": "/admin/"},
    )
    assert door.status_code == 302
    assert door["Location"] == "/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in browser.session
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")
    signed = browser.post(
        door["Location"], {"username": "root", "password": "correct-horse-battery-9"}
    )
    assert signed["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_it_sends_a_signed_in_user_without_admin_rights_back_without_a_loop(world):
    browser = HttpClient()
    browser.login(username="engineer", password="correct-horse-battery-9")
    response = browser.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("front:dashboard")
    assert "no access to the administration" in response.content.decode()


def test_it_lets_the_operator_turn_off_two_factor_for_someone_who_lost_their_phone(staff, world):
    enrolled(world.engineer)
    response = staff.post(
        "/admin/tenancy/twofactor/",
        {"action": "turn_off", "_selected_action": [world.engineer.pk]},
        follow=True,
    )
    assert "Two-factor sign-in is off for 1 user." in response.content.decode()
    record = TwoFactor.objects.get(user=world.engineer)
    assert not record.enabled and record.secret == ""
    # The row stays (it holds the session epoch): no deleting it from the admin.
    assert staff.get(f"/admin/tenancy/twofactor/{world.engineer.pk}/delete/").status_code == 403


def test_it_sends_the_admin_s_password_change_to_the_throttled_one_on_the_profile(staff):
    for number in range(8):
        guess = staff.post(
            "/admin/password_change/",
            {
                "old_password": f"guess-{number}",
                "new_password1": "N3w-pass-phrase-x",
                "new_password2": "N3w-pass-phrase-x",
            },
        )
        assert guess.status_code == 302
        assert guess["Location"] == reverse("front:profile") + "#password"
    right = staff.post(
        "/admin/password_change/",
        {
            "old_password": "correct-horse-battery-9",
            "new_password1": "N3w-pass-phrase-x",
            "new_password2": "N3w-pass-phrase-x",
        },
    )
    assert right.status_code == 302
    assert User.objects.get(username="root").check_password("correct-horse-battery-9")
    # The admin's own pages link there too.
    assert staff.get("/admin/password_change/")["Location"].endswith("/profile/#password")


def helper_with(name: str, *codenames: str) -> HttpClient:
    helper = User.objects.create_user(name, password="correct-horse-battery-9", is_staff=True)
    for codename in codenames:
        helper.user_permissions.add(Permission.objects.get(codename=codename))
    browser = HttpClient()
    browser.login(username=name, password="correct-horse-battery-9")
    return browser


def turn_off(browser: HttpClient, *users: User):
    return browser.post(
        "/admin/tenancy/twofactor/",
        {"action": "turn_off", "_selected_action": [user.pk for user in users]},
        follow=True,
    )


def test_it_lets_only_staff_who_may_change_two_factor_records_turn_it_off(staff, world):
    enrolled(world.engineer)
    viewer = helper_with("viewer", "view_twofactor")
    assert viewer.get("/admin/tenancy/twofactor/").status_code == 200
    turn_off(viewer, world.engineer)
    assert TwoFactor.objects.get(user=world.engineer).enabled
    changer = helper_with("changer", "view_twofactor", "change_twofactor")
    assert (
        "Two-factor sign-in is off for 1 user."
        in turn_off(changer, world.engineer).content.decode()
    )
    assert not TwoFactor.objects.get(user=world.engineer).enabled


def test_it_lets_only_a_superuser_turn_off_a_superuser_s_two_factor(staff, world):
    root = User.objects.get(username="root")
    enrolled(root)
    enrolled(world.owner)
    helper = helper_with("changer", "view_twofactor", "change_twofactor")
    said = turn_off(helper, root, world.owner).content.decode()
    assert "Only a superuser may turn off two-factor sign-in of a superuser" in said
    assert "Two-factor sign-in is off for 1 user." in said
    assert TwoFactor.objects.get(user=root).enabled
    assert not TwoFactor.objects.get(user=world.owner).enabled
    # Nothing else to do: no "off for 0 users".
    assert "off for 0 users" not in turn_off(helper, root).content.decode()
    boss = signed_in_superuser("boss")
    assert "off for 1 user" in turn_off(boss, root).content.decode()
    assert not TwoFactor.objects.get(user=root).enabled


def test_it_finds_sign_in_locks_by_account_name_or_address(staff, world):
    for number in range(6):
        HttpClient(REMOTE_ADDR="203.0.113.7").post(
            reverse("front:login"), {"username": "Owner", "password": f"guess-{number}"}
        )
        HttpClient(REMOTE_ADDR="203.0.113.8").post(
            reverse("front:login"), {"username": "nobody", "password": f"guess-{number}"}
        )
    url = "/admin/tenancy/signinthrottle/"

    def found(term: str) -> list[tuple[str, str]]:
        result = staff.get(url, {"q": term}).context["cl"].result_list
        return sorted((row.kind, row.label or row.key) for row in result)

    assert found("own") == [("account", "owner")]
    assert found("NOBODY") == [("account", throttle.account_key("nobody").key)]
    assert found("203.0.113.7") == [("address", "203.0.113.7")]
    listed = staff.get(url).content.decode()
    assert ">owner<" in listed
