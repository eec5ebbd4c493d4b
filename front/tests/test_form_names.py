"""The web forms refuse names with control characters or text-direction marks with the message
the API and config as code give, and cap channel URLs; nothing is saved."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse

from front.forms_plans import CarePlanForm
from front.tests.conftest import signed_in
from front.views.account import PersonalChannelForm
from front.views.channels import ChannelForm
from front.views.escalation import PolicyForm
from front.views.maintenance import WindowForm
from front.views.oncall import ScheduleForm
from front.views.status_admin import ComponentEditForm, ComponentForm, StatusPageForm
from incidents.admin import ChannelAdminForm
from incidents.models import Channel, StatusPage
from incidents.tests.test_channels_edit import form_data
from monitoring.admin import MonitorAdminForm
from tenancy.scoping import scope_for

SPOOF = "invoice\u202efdp.exe"
MESSAGE = (
    "Invisible characters, control characters and text-direction marks are not allowed here "
    "(found U+202E)."
)


def _plain_forms(world):
    """(form, field) for every web form that is not a model form where a name is typed."""
    scope = scope_for(world.owner)
    page = StatusPage.objects.create(client=world.client_a, slug="shop", title="Shop")
    return [
        (PersonalChannelForm(), "name"),
        (ComponentForm(scope, page), "name"),
        (ComponentEditForm(), "name"),
        (PolicyForm(clients=[], sites=[]), "name"),
        (ScheduleForm(people=User.objects.none()), "name"),
        (WindowForm(scope, world.client_a), "title"),
    ]


def _model_forms(world, field: str, value: str):
    """(form, field) for every model form of the web UI and the admin where a name is typed:
    the model's own check (``NamedModel``) refuses it, with no validator on the form."""
    scope = scope_for(world.owner)
    return [
        (ChannelForm(scope, data={"name": value}), "name"),
        (ChannelAdminForm(data={"name": value}), "name"),
        (MonitorAdminForm(data={"name": value}), "name"),
        (CarePlanForm(data={"name": value}, organization=world.agency), "name"),
        (StatusPageForm(data={field: value}), field),
    ]


def test_it_refuses_hidden_characters_in_every_name_field(world):
    for form, field in _plain_forms(world):
        with pytest.raises(ValidationError) as caught:
            form.fields[field].clean(SPOOF)
        assert MESSAGE in caught.value.messages, (type(form).__name__, field)
        assert form.fields[field].clean("Sklep Łódź") == "Sklep Łódź"
    for field in ("title", "agency_name"):
        for form, name in _model_forms(world, field, SPOOF):
            assert not form.is_valid()
            assert form.errors.get(name) == [MESSAGE], (type(form).__name__, name)
        for form, name in _model_forms(world, field, "Sklep Łódź"):
            form.is_valid()
            assert name not in form.errors, (type(form).__name__, form.errors[name])


def test_it_shows_the_refusal_on_the_channel_page_and_saves_nothing(world):
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:channels"), form_data(name=SPOOF))
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    long_url = "json://hooks.example/" + "a" * 1_000_000
    response = browser.post(reverse("front:channels"), form_data(url=long_url))
    assert "The address is too long: at most 4096 characters." in response.content.decode()
    assert not Channel.objects.filter(name__in=[SPOOF, "Shop room"]).exists()
