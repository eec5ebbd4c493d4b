"""One validator for monitors (acceptance): the same ten invalid inputs give the same field and
the same message through the web form, the API and a YAML file, in the user's language."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation

from core.configcode import ConfigError
from core.configcode.validate import validate_text
from front.kind_forms import monitor_form_class
from monitoring.models import Monitor
from tenancy.models import ApiToken

PASSWORD = "correct-horse-battery-9"
HOME = "https://shop.example/"

# (case, kind, the fields typed besides the name, the field the error must name)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("interval below the minimum", "http", {"url": HOME, "interval": 5}, "interval"),
    ("bad URL", "http", {"url": "ftp://shop.example/"}, "url"),
    (
        "unknown JSON path operator",
        "http",
        {"url": HOME, "json_assert": ['$.a ~= "b"']},
        "json_assert",
    ),
    ("negative grace", "heartbeat", {"grace": -5}, "grace"),
    ("bad cron expression", "heartbeat", {"cron": "61 * * * *"}, "cron"),
    ("bad expected_status", "http", {"url": HOME, "expected_status": "200-99x"}, "expected_status"),
    (
        "HEAD with a keyword",
        "http",
        {"url": HOME, "method": "HEAD", "keyword": "Koszyk"},
        "keyword",
    ),
    ("TCP target without a port", "tcp", {"url": "db.shop.example"}, "url"),
    ("bad DNS record type", "dns", {"url": "shop.example", "record_type": "XYZ"}, "record_type"),
    ("timeout out of range", "http", {"url": HOME, "timeout": 500}, "timeout"),
    ("time zone without cron", "heartbeat", {"time_zone": "Europe/Warsaw"}, "__all__"),
]
IDS = [case[0] for case in CASES]


def definition(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Sklep", "kind": kind, **fields}


def through_form(world, kind: str, fields: dict[str, Any]) -> dict[str, list[str]]:
    """Post the form as a browser would: its initial values, then the fields typed."""
    form = monitor_form_class(kind)()
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is True:
            data[name] = "on"
        elif value not in (False, None):
            data[name] = value
    for key, value in {"name": "Sklep", **fields}.items():
        data[key] = "\n".join(value) if isinstance(value, list) else value
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="pl")
    assert browser.login(username=world.owner.username, password=PASSWORD)
    url = reverse("front:monitor_new", args=[world.site_a.pk]) + f"?kind={kind}"
    response = browser.post(url, data)
    assert response.status_code == 200, "an invalid form is shown again, never saved"
    return {
        name: [str(m) for m in messages]
        for name, messages in response.context["form"].errors.items()
    }


def through_api(world, kind: str, fields: dict[str, Any]) -> dict[str, list[str]]:
    _token, raw = ApiToken.issue(world.owner, "tests")
    body = {**definition(kind, fields), "site": world.site_a.pk}
    response = HttpClient().post(
        "/api/v1/monitors",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}", "Accept-Language": "pl"},
    )
    assert response.status_code == 422, response.content
    found: dict[str, list[str]] = {}
    for error in response.json()["errors"]:
        found.setdefault(error["field"], []).append(error["message"])
    return found


def through_yaml(kind: str, fields: dict[str, Any], language: str = "pl") -> dict[str, list[str]]:
    document = {
        "agency": {"slug": "a1", "name": "A1"},
        "clients": [
            {
                "slug": "c",
                "name": "C",
                "sites": [{"slug": "s", "name": "S", "monitors": [definition(kind, fields)]}],
            }
        ],
    }
    with translation.override(language), pytest.raises(ConfigError) as refused:
        validate_text(yaml.safe_dump(document, allow_unicode=True))
    prefix = ("clients", 0, "sites", 0, "monitors", 0)
    found: dict[str, list[str]] = {}
    for issue in refused.value.issues:
        assert issue.loc[: len(prefix)] == prefix, issue
        rest = issue.loc[len(prefix) :]
        found.setdefault(str(rest[0]) if rest else "__all__", []).append(issue.message)
    return found


@pytest.mark.parametrize(("case", "kind", "fields", "field"), CASES, ids=IDS)
def test_it_gives_the_same_field_and_message_through_form_api_and_yaml(
    world, case, kind, fields, field
):
    form = through_form(world, kind, fields)
    api = through_api(world, kind, fields)
    document = through_yaml(kind, fields)
    assert form == api == document, case
    assert list(form) == [field], f"{case}: one error, on {field}"
    assert not Monitor.objects.filter(name="Sklep").exists()


@pytest.mark.parametrize(("case", "kind", "fields", "field"), CASES, ids=IDS)
def test_it_speaks_the_users_language(world, case, kind, fields, field):
    """The Polish message is a translation, not the English one left in place."""
    polish = through_yaml(kind, fields)[field]
    english = through_yaml(kind, fields, language="en")
    assert polish != english[field], case
