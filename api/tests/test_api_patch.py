"""Request bodies: a PATCH holds only the fields sent, each checked as in the full schema (null
only where the schema admits it), built on pydantic's public API; a field no schema has is a
422 naming it, in PATCH, PUT and POST alike, and nothing changes."""

from __future__ import annotations

import ast
import inspect
from decimal import Decimal

import pytest
from ninja import Schema
from pydantic import Field

from api import patch
from api.inputs import InputSchema
from api.patch import optional_model
from api.routers.maintenance import WindowIn
from api.routers.oncall import OverrideIn, ScheduleIn
from api.routers.plans import PlanIn
from api.routers.statuspages import ComponentIn, PageIn
from api.schemas import ChannelIn, ClientIn, SiteIn
from api.tests.conftest import field_errors
from sites.models import Site
from sla.models import CarePlan
from tenancy.models import Client

PATCHED = [
    WindowIn,
    ScheduleIn,
    OverrideIn,
    PlanIn,
    ComponentIn,
    PageIn,
    ChannelIn,
    ClientIn,
    SiteIn,
]


@pytest.fixture
def owner_api(world, api_as):
    return api_as(world.owner)


class Sample(Schema):
    name: str = Field(min_length=1, max_length=5, description="a name", alias="title")
    note: str | None
    size: int = Field(default=3, ge=1)


def test_it_keeps_every_field_definition_but_requires_none():
    optional = optional_model(Sample)
    assert not any(info.is_required() for info in optional.model_fields.values())
    for name, info in Sample.model_fields.items():
        kept = optional.model_fields[name]
        assert (kept.annotation, kept.metadata, kept.description, kept.alias) == (
            info.annotation,
            info.metadata,
            info.description,
            info.alias,
        ), name
    assert optional.model_validate({}).model_dump(exclude_unset=True) == {}
    assert optional.model_validate({"note": None}).model_dump(exclude_unset=True) == {"note": None}
    with pytest.raises(ValueError, match="title"):
        optional.model_validate({"title": None})  # null only where the schema admits it
    with pytest.raises(ValueError, match="at most 5 characters"):
        optional.model_validate({"title": "too long"})


@pytest.mark.parametrize("schema", PATCHED, ids=lambda schema: schema.__name__)
def test_it_builds_each_patch_body_of_the_api_from_its_schema(schema):
    optional = optional_model(schema)
    for name, info in schema.model_fields.items():
        assert optional.model_fields[name].metadata == info.metadata, name
        assert not optional.model_fields[name].is_required(), name


def test_it_uses_no_private_or_deprecated_api_of_pydantic_or_ninja():
    tree = ast.parse(inspect.getsource(patch))
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             for alias in node.names}  # fmt: skip
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in used if name.startswith("_") and not name.startswith("__")}
    assert "merge_field_infos" not in used
    assert not {module for module in modules if module and "patch_dict" in module}


def test_it_patches_only_the_fields_sent(world, owner_api):
    response = owner_api.patch(f"/sites/{world.site_a.pk}", {"name": "Renamed"})
    assert response.status_code == 200, response.content
    site = Site.objects.get(pk=world.site_a.pk)
    assert (site.name, site.time_zone, site.slug) == ("Renamed", "Europe/Warsaw", world.site_a.slug)
    errors = field_errors(owner_api.patch(f"/sites/{world.site_a.pk}", {"name": "x" * 201}))
    assert errors == {"name": "must have at most 200 characters"}


def test_it_refuses_an_unknown_field_naming_it_and_changes_nothing(world, owner_api):
    plan = CarePlan.objects.create(
        organization=world.agency, name="Gold", slug="gold", availability_target=Decimal("99.9")
    )
    client = world.client_a
    refused = [
        owner_api.patch(f"/plans/{plan.pk}", {"name": "Silver", "credit_percent": 5}),
        owner_api.put(f"/clients/{client.pk}", {"name": "New", "slug": "new", "nmae": "x"}),
        owner_api.post("/clients", {"name": "Other", "slug": "other", "colour": "red"}),
    ]
    assert [list(field_errors(response)) for response in refused] == [
        ["credit_percent"],
        ["nmae"],
        ["colour"],
    ]
    assert CarePlan.objects.get(pk=plan.pk).name == "Gold"
    assert Client.objects.get(pk=client.pk).name == client.name
    assert not Client.objects.filter(slug="other").exists()


def test_it_refuses_unknown_fields_in_every_request_body():
    for schema in InputSchema.__subclasses__():
        assert schema.model_config.get("extra") == "forbid", schema.__name__
    assert set(PATCHED) <= set(InputSchema.__subclasses__())
