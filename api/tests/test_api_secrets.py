"""Secret monitor options (HTTP credentials, header values) are never shown back in full."""

import pytest

from monitoring.models import CheckKind, Monitor

TOKEN = "bearer-Tok3n-991"
PASSWORD = "basic-Pa55-417"
API_KEY = "hdr-key-Z20"


@pytest.fixture
def secret_monitors(world):
    Monitor.objects.filter(pk=world.monitor_a.pk).update(
        config={"bearer_token": TOKEN, "headers": {"X-Api-Key": API_KEY}, "keyword": "ok"}
    )
    Monitor.objects.create(
        site=world.site_a,
        name="Admin",
        kind=CheckKind.HTTP,
        url="https://a.example/admin",
        config={"basic_auth": {"username": "ops", "password": PASSWORD}},
    )
    return world


def _assert_no_secret(body: bytes) -> None:
    for secret in (TOKEN, PASSWORD, API_KEY):
        assert secret.encode() not in body


@pytest.mark.parametrize("who", ["owner", "client_a_user"])
def test_it_masks_secret_options_for_every_reader(secret_monitors, api_as, who):
    api = api_as(getattr(secret_monitors, who))
    listed = api.get("/monitors", site=secret_monitors.site_a.pk)
    one = api.get(f"/monitors/{secret_monitors.monitor_a.pk}")
    assert listed.status_code == one.status_code == 200
    _assert_no_secret(listed.content)
    _assert_no_secret(one.content)
    options = {m["name"]: m["options"] for m in listed.json()["items"]}
    assert options["Home"] == {
        "bearer_token": "***",
        "headers": {"X-Api-Key": "***"},
        "keyword": "ok",
    }
    assert options["Admin"] == {"basic_auth": {"username": "ops", "password": "***"}}


def test_it_keeps_secrets_a_patch_leaves_out(secret_monitors, api_as):
    api = api_as(secret_monitors.owner)
    changed = api.patch(f"/monitors/{secret_monitors.monitor_a.pk}", {"keyword": "fine"})
    assert changed.status_code == 200, changed.content
    _assert_no_secret(changed.content)
    assert Monitor.objects.get(pk=secret_monitors.monitor_a.pk).config == {
        "bearer_token": TOKEN,
        "headers": {"X-Api-Key": API_KEY},
        "keyword": "fine",
    }


def test_it_keeps_secrets_sent_back_masked(secret_monitors, api_as):
    api = api_as(secret_monitors.owner)
    pk = secret_monitors.monitor_a.pk
    read = api.get(f"/monitors/{pk}").json()
    body = {key: read[key] for key in ("name", "url")} | read["options"]
    body["headers"] = {**body["headers"], "X-Env": "prod"}
    assert api.put(f"/monitors/{pk}", body).status_code == 200
    assert Monitor.objects.get(pk=pk).config == {
        "bearer_token": TOKEN,
        "headers": {"X-Api-Key": API_KEY, "X-Env": "prod"},
        "keyword": "ok",
    }
    assert api.patch(f"/monitors/{pk}", {"bearer_token": "new-token"}).status_code == 200
    assert Monitor.objects.get(pk=pk).config["bearer_token"] == "new-token"
