"""The admin refuses hidden characters in every name others read, agencies, clients, sites and
care plans included, through the model's own check (``NamedModel``), and changes nothing."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.forms.models import model_to_dict
from django.urls import reverse

from front.tests.conftest import signed_in_superuser
from incidents.models import EscalationPolicy, MaintenanceWindow, OnCallSchedule, StatusPage
from monitoring.models import Tag
from sitecare.lib.names import NamedModel
from sla.models import CarePlan
from tenancy.models import Client

SPOOF = "invoice\u202efdp.exe"
MESSAGE = (
    "Invisible characters, control characters and text-direction marks are not allowed here "
    "(found U+202E)."
)


def _objects(world) -> None:
    """One object of every named model the world does not have yet."""
    CarePlan.objects.create(
        organization=world.agency, name="Gold", slug="gold", availability_target=Decimal("99.9")
    )
    StatusPage.objects.create(client=world.client_a, slug="shop", title="Shop")
    EscalationPolicy.objects.create(organization=world.agency, name="Default")
    OnCallSchedule.objects.create(organization=world.agency, name="Week")
    Tag.objects.create(organization=world.agency, name="Shops")
    MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Updates",
        start_date=date(2026, 3, 1),
        start_time=time(2),
        duration_minutes=60,
    )


def test_it_refuses_hidden_characters_on_every_admin_page_of_a_named_model(world, rf):
    _objects(world)
    request = rf.get("/admin/")
    request.user = User.objects.create_superuser("root", "root@example.com", "pw-x-123456")
    checked = set()
    for model, model_admin in admin.site._registry.items():
        if not issubclass(model, NamedModel):
            continue
        instance = model._default_manager.first()
        assert instance is not None, model.__name__
        form_class = model_admin.get_form(request, instance, change=True)
        for field in model.name_fields:
            if field not in form_class.base_fields:
                continue
            data = {**model_to_dict(instance, fields=form_class.base_fields), field: SPOOF}
            form = form_class(data=data, instance=instance)
            assert not form.is_valid()
            assert form.errors[field] == [MESSAGE], (model.__name__, field, form.errors)
            checked.add(f"{model.__name__}.{field}")
    assert {"Organization.name", "Client.name", "Site.name", "CarePlan.name"} <= checked


def _posted(values: dict[str, object]) -> dict[str, object]:
    """Form values as the admin's page posts them (a date and time box per datetime)."""
    data: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            data[f"{key}_0"], data[f"{key}_1"] = value.date().isoformat(), value.time().isoformat()
        else:
            data[key] = "" if value is None else value
    return data


@pytest.mark.parametrize("model", ["organization", "client"])
def test_it_shows_the_refusal_on_the_admin_page_and_changes_nothing(world, rf, model):
    browser = signed_in_superuser()
    request = rf.get("/admin/")
    request.user = User.objects.get(username="root")
    instance = world.agency if model == "organization" else world.client_a
    url = reverse(f"admin:tenancy_{model}_change", args=[instance.pk])
    form_class = admin.site._registry[type(instance)].get_form(request, instance)
    data = _posted(model_to_dict(instance, fields=form_class.base_fields))
    assert browser.post(url, data).status_code == 302  # as it is, the page saves
    response = browser.post(url, {**data, "name": SPOOF})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [MESSAGE]}
    assert type(instance).objects.get(pk=instance.pk).name == instance.name
    assert not Client.objects.filter(name=SPOOF).exists()
