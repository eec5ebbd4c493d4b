"""Config as code refuses names with control characters, text-direction marks or invisible
characters, and names too long, at their YAML path and line with the message the API gives, and
caps channel URLs; nothing is written."""

from __future__ import annotations

import pytest

from api.tests.conftest import ApiCaller, field_errors
from core.configcode import ConfigError, apply_config
from tenancy.models import ApiToken, Organization

MESSAGE = (
    "Invisible characters, control characters and text-direction marks are not allowed here "
    "(found U+"
)


def document(**names: str) -> str:
    """A small document whose names (YAML double-quoted strings, escapes allowed) are given."""
    value = {
        "agency": "Agency",
        "plan": "Gold",
        "client": "Client",
        "channel": "Hook",
        "url": "json://hooks.example/",
        "site": "Shop",
        "monitor": "Home",
        "window": "Updates",
        **names,
    }
    return f"""
agency: {{slug: a, name: "{value["agency"]}"}}
plans:
  - {{slug: gold, name: "{value["plan"]}", availability_target: 99.9}}
clients:
  - slug: c
    name: "{value["client"]}"
    channels: [{{name: "{value["channel"]}", url: "{value["url"]}"}}]
    sites:
      - slug: s
        name: "{value["site"]}"
        monitors: [{{name: "{value["monitor"]}", url: "https://shop.example/"}}]
    maintenance:
      - {{title: "{value["window"]}", starts: 2026-12-06 02:00, duration_minutes: 60}}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        apply_config(text, source="bad.yaml")
    assert not Organization.objects.exists()
    return info.value.messages()


@pytest.mark.parametrize(
    ("name", "line", "path"),
    [
        ("agency", 2, "agency.name"),
        ("plan", 4, "plans[0].name"),
        ("client", 7, "clients[0].name"),
        ("channel", 8, "clients[0].channels[0].name"),
        ("site", 11, "clients[0].sites[0].name"),
        ("monitor", 12, "clients[0].sites[0].monitors[0].name"),
        ("window", 14, "clients[0].maintenance[0].title"),
    ],
)
def test_it_refuses_hidden_characters_in_names_at_their_path(db, name, line, path):
    [message] = errors_of(document(**{name: "invoice\\u202efdp.exe"}))
    assert message.startswith(f"bad.yaml:{line}:")
    assert f": {path}: {MESSAGE}202E)." in message


def test_it_refuses_a_nul_in_a_name(db):
    [message] = errors_of(document(client="Client\\0"))
    assert message.endswith(f"clients[0].name: {MESSAGE}0000).")


def test_it_caps_the_length_of_a_channel_url(db):
    [message] = errors_of(document(url="json://hooks.example/" + "a" * 5000))
    assert message.endswith(
        "clients[0].channels[0].url: The address is too long: at most 4096 characters."
    )


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("agency", "agency.name"),
        ("client", "clients[0].name"),
        ("site", "clients[0].sites[0].name"),
        ("monitor", "clients[0].sites[0].monitors[0].name"),
        ("window", "clients[0].maintenance[0].title"),
    ],
)
def test_it_says_a_name_is_too_long_as_the_api_does(world, name, path):
    caller = ApiCaller(ApiToken.issue(world.owner, "tests")[1])
    api = field_errors(caller.post("/clients", {"name": "x" * 201, "slug": "long"}))
    assert api["name"] == "must have at most 200 characters"
    Organization.objects.all().delete()
    [message] = errors_of(document(**{name: "x" * 201}))
    assert message.endswith(f": {path}: {api['name']}")
