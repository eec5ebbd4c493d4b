"""Tenant isolation: a client B user learns nothing of client A; client users never write.

The id routes are found by walking the API's URL patterns, so a new route is covered (or the
test fails, asking for its id type) without anyone remembering to add it here.
"""

import re
from datetime import date, time

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from api.urls import api, urlpatterns
from incidents.models import Channel, EscalationPolicy, Incident, MaintenanceWindow
from incidents.models.oncall import OnCallOverride, OnCallSchedule
from incidents.tests.statuspages import status_walk_bodies, status_walk_objects
from monitoring.models import Tag
from sla.models import CarePlan
from tenancy.models import ApiToken

WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")
ALL_METHODS = ("GET", *WRITE_METHODS)
NOT_FOUND = {"detail": "Not found", "errors": []}
# Ids of the agency's own objects (on-call schedules): every client user gets 404 for them.
AGENCY_ONLY = {"schedule_id", "override_id", "policy_id", "personal_channel_id", "plan_id"}


def id_routes() -> dict[str, list[str]]:
    """Every API route with path parameters, as ``{route: [parameter names]}``."""
    found: dict[str, list[str]] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                names = re.findall(r"<(?:\w+:)?(\w+)>", route)
                if names:
                    found[route] = names
                elif "(?P<" in route:
                    pytest.fail(f"regex route with parameters is not covered: {route}")

    walk(urlpatterns, "")
    return found


def declared_methods() -> dict[str, set[str]]:
    """Methods of each route, from the OpenAPI schema (route spelled as Django's)."""
    schema = api.get_openapi_schema(path_prefix="")
    return {
        re.sub(r"\{(\w+)\}", r"<\1>", path).lstrip("/"): {m.upper() for m in ops}
        for path, ops in schema["paths"].items()
    }


def agency_objects(world) -> dict[str, int]:
    """An on-call schedule and override, an escalation policy, a personal channel and a care
    plan of the agency (no client owns them)."""
    schedule = OnCallSchedule.objects.create(organization=world.agency, name="Walk")
    now = timezone.now()
    override = OnCallOverride.objects.create(
        schedule=schedule, user=world.owner, starts_at=now, ends_at=now.replace(year=now.year + 1)
    )
    policy = EscalationPolicy.objects.create(organization=world.agency, name="Walk")
    # A person's own channel (only escalation pages it): the owner's.
    personal = Channel.objects.create(
        organization=world.agency, user=world.owner, name="Owner's phone", url="json://x.example/"
    )
    plan = CarePlan.objects.create(
        organization=world.agency, name="Walk", slug="walk", availability_target=99
    )
    # A tag on client A's monitor: client A's users read it, client B's never learn of it.
    tag = Tag.objects.create(organization=world.agency, name="Walk")
    world.monitor_a.tags.add(tag)
    return {
        "schedule_id": schedule.pk,
        "override_id": override.pk,
        "policy_id": policy.pk,
        "personal_channel_id": personal.pk,
        "plan_id": plan.pk,
        "tag_id": tag.pk,
    }


@pytest.fixture
def a_objects(world):
    """One client-A object per id parameter name; the A user's token for ``token_id``."""
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=timezone.now())
    token, _raw = ApiToken.issue(world.client_a_user, "a's token")
    return {
        "client_id": world.client_a.pk,
        "site_id": world.site_a.pk,
        "monitor_id": world.monitor_a.pk,
        "channel_id": Channel.objects.get(client=world.client_a).pk,
        "incident_id": incident.pk,
        "token_id": token.pk,
        **agency_objects(world),
        **{name: obj.pk for name, obj in status_walk_objects(world, incident).items()},
        "window_id": MaintenanceWindow.objects.create(
            client=world.client_a,
            title="Upgrade",
            start_date=date(2026, 1, 4),
            start_time=time(2),
            duration_minutes=60,
        ).pk,
    }


def bodies(world) -> dict[str, dict]:
    """Bodies valid for each PUT, so a refusal cannot come from body validation instead."""
    return {
        "client_id": {"name": "X", "slug": "x"},
        # Routes whose body differs from their object's (unknown fields are refused).
        "clients/<client_id>/plan": {"plan": 1},
        "incidents/<incident_id>/resolve": {"note": "X"},
        **status_walk_bodies(world),
        "site_id": {"client": world.client_b.pk, "name": "X", "slug": "x"},
        "monitor_id": {"name": "X", "url": "https://x.example/"},
        "channel_id": {"name": "X", "url": "json://x.example/"},
        "schedule_id": {"name": "X"},
        "tag_id": {"name": "X"},
        "incident_id": {"text": "X"},  # a note's
        "policy_id": {"name": "X", "steps": [{"wait_minutes": 5, "users": [1]}]},
        "override_id": {
            "schedule": 1,
            "user": 1,
            "starts_at": "2026-01-04T02:00:00Z",
            "ends_at": "2026-01-04T03:00:00Z",
        },
        "window_id": {
            "client": world.client_b.pk,
            "title": "X",
            "start_date": "2026-01-04",
            "start_time": "02:00",
            "duration_minutes": 60,
        },
    }


def _url(route: str, names: list[str], ids: dict[str, int]) -> str:
    for name in names:
        assert name in ids, f"route {route}: no client-A object for <{name}>; add one to a_objects"
        route = route.replace(f"<{name}>", str(ids[name]))
    return "/api/v1/" + route


def test_it_walks_every_id_route_and_the_schema_agrees():
    routes, declared = id_routes(), declared_methods()
    assert routes, "no id routes found: the walk is broken"
    assert set(routes) <= set(declared), "an id route is missing from the OpenAPI schema"
    assert {"clients/<client_id>", "monitors/<monitor_id>", "tokens/<token_id>"} <= set(routes)


def test_it_answers_404_to_client_b_for_every_client_a_object(world, a_objects, api_as):
    b_user = api_as(world.client_b_user)
    declared = declared_methods()
    body_for = bodies(world)
    checked = 0
    for route, names in id_routes().items():
        url = _url(route, names, a_objects)
        absent = _url(route, names, dict.fromkeys(names, 987_654))
        for method in ALL_METHODS:
            body = body_for.get(route, body_for.get(names[-1], {}))
            body = body if method in ("PUT", "POST") else {}
            response = b_user.call(method, url, body if method != "GET" else None)
            if method not in declared[route]:
                assert response.status_code == 405, (method, url)
                continue
            assert response.status_code == 404, (method, url, response.content)
            assert response.json() == NOT_FOUND
            # The same answer as for an id that exists nowhere: nothing to tell them apart.
            twin = b_user.call(method, absent, body if method != "GET" else None)
            assert (twin.status_code, twin.json()) == (404, NOT_FOUND), (method, absent)
            checked += 1
    assert checked >= 18  # 4 methods × 4 resources, incident GET, token DELETE
    assert ApiToken.objects.filter(pk=a_objects["token_id"]).exists()
    assert Incident.objects.filter(pk=a_objects["incident_id"]).exists()


def test_it_shows_client_a_objects_to_their_own_user(world, a_objects, api_as):
    """The other side of the 404s: the same URLs work for the right user."""
    a_user = api_as(world.client_a_user)
    owner = api_as(world.owner)
    declared = declared_methods()
    for route, names in id_routes().items():
        if "GET" in declared[route]:
            url = _url(route, names, a_objects)
            if AGENCY_ONLY & set(names):
                assert a_user.get(url).status_code == 404, route
                assert owner.get(url).status_code == 200, (route, owner.get(url).content)
                continue
            response = a_user.get(url)
            assert response.status_code == 200, (route, response.content)


def test_it_keeps_client_a_out_of_client_b_lists(world, a_objects, api_as):
    Incident.objects.create(monitor=world.monitor_b, opened_at=timezone.now())
    b_user = api_as(world.client_b_user)
    for path, key in (
        ("/clients", "id"),
        ("/sites", "client"),
        ("/channels", "client"),
        ("/incidents", "client"),
    ):
        items = b_user.get(path).json()["items"]
        assert items, path
        assert {i[key] for i in items} == {world.client_b.pk}, path
    assert {m["site"] for m in b_user.get("/monitors").json()["items"]} == {world.site_b.pk}
    assert b_user.get("/sites", client=world.client_a.pk).json() == {"items": [], "count": 0}
    assert b_user.get("/monitors", site=world.site_a.pk).json()["count"] == 0
    assert b_user.get("/incidents", site=world.site_a.pk).json()["count"] == 0


def test_it_forbids_client_users_to_write_even_their_own_objects(world, a_objects, api_as):
    a_user = api_as(world.client_a_user)
    body_for = bodies(world)
    body_for["site_id"]["client"] = world.client_a.pk
    declared = declared_methods()
    for route, names in id_routes().items():
        if names == ["token_id"]:
            continue  # a person's own tokens are theirs to manage, whatever their role
        url = _url(route, names, a_objects)
        for method in sorted(declared[route] & set(WRITE_METHODS)):
            body = body_for.get(route, body_for[names[-1]]) if method in ("PUT", "POST") else {}
            response = a_user.call(method, url, body)
            expected = 404 if AGENCY_ONLY & set(names) else 403
            assert response.status_code == expected, (method, url, response.content)
    for path, body in (
        ("/clients", body_for["client_id"]),
        ("/sites", body_for["site_id"]),
        ("/monitors", {**body_for["monitor_id"], "site": world.site_a.pk}),
        ("/channels", {**body_for["channel_id"], "client": world.client_a.pk}),
    ):
        assert a_user.post(path, body).status_code == 403, path
    assert world.client_a.sites.count() == 1


def test_it_hides_agency_level_channels_from_client_users(world, api_as):
    agency_channel = Channel.objects.create(
        organization=world.agency, name="Ops room", url="json://ops.example/"
    )
    a_user = api_as(world.client_a_user)
    names = {c["name"] for c in a_user.get("/channels").json()["items"]}
    assert names == {"A hook"}
    assert a_user.get(f"/channels/{agency_channel.pk}").status_code == 404
    owner_names = {c["name"] for c in api_as(world.owner).get("/channels").json()["items"]}
    assert "Ops room" in owner_names


def test_it_renders_the_openapi_schema_and_docs(world):
    response = HttpClient().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/monitors/{monitor_id}" in schema["paths"]
    create = schema["paths"]["/api/v1/monitors"]["post"]["requestBody"]
    properties = create["content"]["application/json"]["schema"]["properties"]
    assert {"site", "url", "interval", "keyword"} <= set(properties)
    assert HttpClient().get("/api/v1/docs").status_code == 200


def test_it_answers_unknown_api_paths_with_json_404(world, api_as):
    response = api_as(world.owner).get("/no-such-thing/1")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
