"""CRUD through the API, as an agency member: clients, sites, monitors, channels, incidents."""

from datetime import timedelta

from django.utils import timezone

from incidents.models import Channel, EventKind, Incident, IncidentEvent, IncidentState
from monitoring.logic import STATE_FIELDS
from monitoring.models import Monitor, MonitorState
from sites.models import Site
from tenancy.models import Client


def test_it_creates_reads_updates_and_deletes_a_client(world, api_as):
    api = api_as(world.owner)
    created = api.post("/clients", {"name": "Client C", "slug": "client-c"})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert Client.objects.get(pk=pk).organization == world.agency
    assert api.get(f"/clients/{pk}").json()["slug"] == "client-c"
    assert api.put(f"/clients/{pk}", {"name": "C", "slug": "c"}).json()["name"] == "C"
    assert api.patch(f"/clients/{pk}", {"name": "Cee"}).json() | {"created_at": None} == {
        "id": pk,
        "name": "Cee",
        "slug": "c",
        "created_at": None,
    }
    assert {c["name"] for c in api.get("/clients").json()["items"]} == {
        "Client A",
        "Client B",
        "Cee",
    }
    assert api.delete(f"/clients/{pk}").status_code == 204
    assert api.get(f"/clients/{pk}").status_code == 404


def test_it_creates_and_filters_sites(world, api_as):
    api = api_as(world.engineer)
    created = api.post(
        "/sites",
        {
            "client": world.client_b.pk,
            "name": "Blog B",
            "slug": "blog-b",
            "url": "https://b.example/blog",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["client"] == world.client_b.pk
    assert body["time_zone"] == "Europe/Warsaw"
    listed = api.get("/sites", client=world.client_b.pk).json()
    assert listed["count"] == 2
    assert {s["slug"] for s in listed["items"]} == {"shop-b", "blog-b"}
    moved = api.patch(f"/sites/{body['id']}", {"client": world.client_a.pk, "time_zone": "UTC"})
    assert moved.json()["client"] == world.client_a.pk
    assert moved.json()["time_zone"] == "UTC"
    assert api.delete(f"/sites/{body['id']}").status_code == 204
    assert not Site.objects.filter(pk=body["id"]).exists()


def test_it_creates_a_monitor_from_a_flat_definition(world, api_as):
    api = api_as(world.owner)
    created = api.post(
        "/monitors",
        {
            "site": world.site_a.pk,
            "name": "Checkout",
            "url": "https://a.example/checkout",
            "interval": 30,
            "keyword": "total",
            "expected_status": "200",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["interval"] == 30
    assert body["options"] == {"keyword": "total", "expected_status": "200"}
    assert body["state"] == "unknown"
    monitor = Monitor.objects.get(pk=body["id"])
    assert monitor.interval_s == 30
    assert monitor.config == {"keyword": "total", "expected_status": "200"}


def _make_monitor_down(monitor: Monitor) -> dict:
    now = timezone.now()
    state = {
        "state": MonitorState.DOWN,
        "state_since": now,
        "streak_ok": False,
        "streak_count": 3,
        "streak_since": now,
        "last_checked_at": now,
        "last_ok": False,
        "last_response_ms": 12.5,
        "last_failure_class": "",
        "last_message": "connection refused",
        "last_message_code": "HTTP %(status)d, expected %(expected)s.",
        "last_message_args": {"status": 500, "expected": "200-399"},
    }
    assert set(state) == set(STATE_FIELDS)
    Monitor.objects.filter(pk=monitor.pk).update(**state)
    return state


def test_it_updates_a_monitor_without_touching_its_state(world, api_as):
    api = api_as(world.owner)
    state = _make_monitor_down(world.monitor_a)
    got = api.get(f"/monitors/{world.monitor_a.pk}").json()
    assert got["state"] == "down"
    # The message read from its code and args, in the request's language (English here).
    assert got["last_message"] == "HTTP 500, expected 200-399."
    assert got["last_message_code"] == "HTTP %(status)d, expected %(expected)s."
    assert got["last_response_ms"] == 12.5

    patched = api.patch(f"/monitors/{world.monitor_a.pk}", {"interval": 120, "keyword": "Shop"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["interval"] == 120
    assert patched.json()["options"] == {"keyword": "Shop"}
    assert patched.json()["url"] == "https://a.example/"

    replaced = api.put(
        f"/monitors/{world.monitor_a.pk}", {"name": "Front", "url": "https://a.example/front"}
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["interval"] == 60  # PUT: what is left out takes its default
    assert replaced.json()["options"] == {}

    monitor = Monitor.objects.get(pk=world.monitor_a.pk)
    assert {f: getattr(monitor, f) for f in STATE_FIELDS} == state
    assert monitor.name == "Front"


def test_it_moves_and_deletes_a_monitor(world, api_as):
    api = api_as(world.owner)
    moved = api.patch(
        f"/monitors/{world.monitor_a.pk}", {"site": world.site_b.pk, "name": "A home"}
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["site"] == world.site_b.pk
    assert [m["name"] for m in api.get("/monitors", site=world.site_b.pk).json()["items"]] == [
        "A home",
        "Home",
    ]
    assert api.delete(f"/monitors/{world.monitor_a.pk}").status_code == 204
    assert not Monitor.objects.filter(pk=world.monitor_a.pk).exists()


def test_it_keeps_channel_urls_write_only(world, api_as):
    api = api_as(world.owner)
    secret = "json://hook.example/path?token=s3cr3t"
    created = api.post("/channels", {"name": "Ops", "url": secret})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["client"] is None
    assert "url" not in body
    assert "s3cr3t" not in created.content.decode()
    assert body["url_redacted"] == "json://hook.example/***"
    pk = body["id"]
    assert Channel.objects.get(pk=pk).url == secret
    for response in (api.get(f"/channels/{pk}"), api.get("/channels")):
        assert "s3cr3t" not in response.content.decode()
    patched = api.patch(f"/channels/{pk}", {"client": world.client_a.pk, "enabled": False})
    assert patched.json()["client"] == world.client_a.pk
    assert Channel.objects.get(pk=pk).url == secret  # left out of the PATCH: unchanged
    replaced = api.put(f"/channels/{pk}", {"name": "Ops", "url": "json://other.example/"})
    assert replaced.json()["client"] is None
    assert Channel.objects.get(pk=pk).url == "json://other.example/"
    assert api.delete(f"/channels/{pk}").status_code == 204


def _incidents(world) -> tuple[Incident, Incident]:
    now = timezone.now()
    resolved = Incident.objects.create(
        monitor=world.monitor_a,
        state=IncidentState.RESOLVED,
        opened_at=now - timedelta(hours=2),
        resolved_at=now - timedelta(hours=1),
    )
    open_ = Incident.objects.create(
        monitor=world.monitor_a, opened_at=now - timedelta(minutes=5), message="timeout"
    )
    IncidentEvent.objects.create(incident=open_, at=open_.opened_at, kind=EventKind.OPENED)
    IncidentEvent.objects.create(
        incident=open_, at=now, kind=EventKind.NOTIFICATION_SENT, message="A hook"
    )
    return resolved, open_


def test_it_lists_incidents_by_state_and_site_and_shows_the_timeline(world, api_as):
    resolved, open_ = _incidents(world)
    api = api_as(world.engineer)
    assert [i["id"] for i in api.get("/incidents").json()["items"]] == [open_.pk, resolved.pk]
    assert [i["id"] for i in api.get("/incidents", state="open").json()["items"]] == [open_.pk]
    assert [i["id"] for i in api.get("/incidents", state="resolved").json()["items"]] == [
        resolved.pk
    ]
    assert api.get("/incidents", site=world.site_b.pk).json()["count"] == 0
    detail = api.get(f"/incidents/{open_.pk}").json()
    assert detail["site"] == world.site_a.pk
    assert detail["client"] == world.client_a.pk
    assert [e["kind"] for e in detail["events"]] == ["opened", "notification_sent"]
    assert api.get("/incidents", state="closed").status_code == 422


def test_it_paginates_lists_with_a_sane_maximum(world, api_as):
    for n in range(5):
        Client.objects.create(organization=world.agency, name=f"Extra {n}", slug=f"extra-{n}")
    api = api_as(world.owner)
    page = api.get("/clients", limit=3, offset=2).json()
    assert page["count"] == 7
    assert [c["name"] for c in page["items"]] == ["Extra 0", "Extra 1", "Extra 2"]
    assert len(api.get("/clients", limit=100_000).json()["items"]) == 7
    assert api.get("/clients", limit=0).status_code == 422


def test_it_tells_who_i_am(world, api_as):
    me = api_as(world.client_a_user).get("/me").json()
    assert me == {
        "username": "alice",
        "role": "client",
        "organization": {"id": world.agency.pk, "name": "Agency"},
        "client": {"id": world.client_a.pk, "name": "Client A"},
    }
    assert api_as(world.owner).get("/me").json()["client"] is None


def test_it_keeps_a_personal_channel_to_its_owner(world, api_as):
    """A pager of one person: only they list, read, change, test or delete it via the API."""
    pager = Channel.objects.create(
        organization=world.agency, user=world.engineer, name="Eng pager", url="json://x.example/"
    )
    engineer, owner = api_as(world.engineer), api_as(world.owner)
    assert pager.pk in [c["id"] for c in engineer.get("/channels").json()["items"]]
    assert engineer.get(f"/channels/{pager.pk}").status_code == 200
    assert pager.pk not in [c["id"] for c in owner.get("/channels").json()["items"]]
    for response in (
        owner.get(f"/channels/{pager.pk}"),
        owner.patch(f"/channels/{pager.pk}", {"url": "json://attacker.example/"}),
        owner.delete(f"/channels/{pager.pk}"),
        owner.call("POST", f"/channels/{pager.pk}/test"),
    ):
        assert response.status_code == 404
    pager.refresh_from_db()
    assert pager.url == "json://x.example/"
