"""Tags in the API: the agency's members manage them, monitors get and set them by name,
client users read the tags of their own monitors only; the OpenAPI schema documents it all."""

from __future__ import annotations

from api.tests.conftest import field_errors
from monitoring.models import Tag, TagColour
from tenancy.models import Organization


def test_it_creates_lists_renames_and_deletes_tags(world, api_as):
    api = api_as(world.engineer)
    created = api.post("/tags", {"name": " Sklepy ", "colour": "green"})
    assert created.status_code == 201, created.content
    tag = created.json()
    assert (tag["name"], tag["colour"]) == ("Sklepy", "green")
    assert [t["name"] for t in api.get("/tags").json()["items"]] == ["Sklepy"]
    changed = api.patch(f"/tags/{tag['id']}", {"name": "Shops"})
    assert changed.json()["name"] == "Shops" and changed.json()["colour"] == "green"
    assert api.delete(f"/tags/{tag['id']}").status_code == 204
    assert not Tag.objects.exists()


def test_it_refuses_a_duplicate_name_in_any_case_and_a_colour_off_the_palette(world, api_as):
    Tag.objects.create(organization=world.agency, name="Sklepy")
    api = api_as(world.owner)
    assert field_errors(api.post("/tags", {"name": "SKLEPY"})) == {
        "name": "The agency already has a tag of this name."
    }
    errors = field_errors(api.post("/tags", {"name": "Blog", "colour": "yellow"}))
    assert errors["colour"].startswith("must be one of: slate, red")
    assert field_errors(api.post("/tags", {"name": "a,b"})) == {
        "name": "A tag name cannot contain a comma."
    }


def test_it_sets_and_reads_a_monitors_tags_by_name(world, api_as):
    Tag.objects.create(organization=world.agency, name="Sklepy", colour=TagColour.RED)
    Tag.objects.create(organization=world.agency, name="VIP")
    api = api_as(world.owner)
    url = f"/monitors/{world.monitor_a.pk}"
    assert api.get(url).json()["tags"] == []
    assert api.patch(url, {"tags": ["vip", "SKLEPY"]}).json()["tags"] == ["Sklepy", "VIP"]
    # PATCH without tags keeps them; PUT without tags means none.
    assert api.patch(url, {"interval": 120}).json()["tags"] == ["Sklepy", "VIP"]
    listed = api.get("/monitors", site=world.site_a.pk).json()["items"]
    assert listed[0]["tags"] == ["Sklepy", "VIP"]
    body = {"name": "Home", "url": "https://a.example/"}
    assert api.put(url, body).json()["tags"] == []
    created = api.post(
        "/monitors", {**body, "name": "Cart", "site": world.site_a.pk, "tags": ["VIP"]}
    )
    assert created.status_code == 201 and created.json()["tags"] == ["VIP"]


def test_it_names_the_unknown_tags_and_changes_nothing(world, api_as):
    Tag.objects.create(organization=Organization.objects.create(name="O", slug="o"), name="Theirs")
    Tag.objects.create(organization=world.agency, name="VIP")
    world.monitor_a.tags.add(Tag.objects.get(name="VIP"))
    api = api_as(world.owner)
    url = f"/monitors/{world.monitor_a.pk}"
    response = api.patch(url, {"tags": ["Theirs", "Nope", "VIP"], "interval": 1})
    errors = field_errors(response)
    assert errors["tags"] == "No tag named Theirs, Nope in this agency."
    assert "interval" in errors  # every error of the body at once
    assert field_errors(api.patch(url, {"tags": "VIP"})) == {"tags": "Give a list of tag names."}
    assert [t.name for t in world.monitor_a.tags.all()] == ["VIP"]


def test_it_shows_client_users_only_their_monitors_tags_and_lets_them_change_none(world, api_as):
    mine = Tag.objects.create(organization=world.agency, name="Mine")
    other = Tag.objects.create(organization=world.agency, name="Internal")
    world.monitor_a.tags.add(mine)
    world.monitor_b.tags.add(other)
    alice = api_as(world.client_a_user)
    assert [t["name"] for t in alice.get("/tags").json()["items"]] == ["Mine"]
    assert alice.get(f"/monitors/{world.monitor_a.pk}").json()["tags"] == ["Mine"]
    assert alice.get(f"/tags/{other.pk}").status_code == 404
    assert alice.patch(f"/tags/{mine.pk}", {"name": "Ours"}).status_code == 403
    assert alice.delete(f"/tags/{other.pk}").status_code == 404
    assert alice.post("/tags", {"name": "New"}).status_code == 403
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Internal", "Mine"]


def test_it_documents_tags_in_the_openapi_schema(world, api_as):
    schema = api_as(world.owner).get("/openapi.json").json()
    assert {"/api/v1/tags", "/api/v1/tags/{tag_id}"} <= set(schema["paths"])
    body = schema["paths"]["/api/v1/monitors"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["properties"]["tags"]["type"] == "array"
    assert "tags" in schema["components"]["schemas"]["MonitorOut"]["properties"]
