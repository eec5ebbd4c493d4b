"""Channel message templates: known placeholders only, everything else written as is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from incidents.logic import dedup_key, enqueue_notifications
from incidents.models import Channel, EventKind, Incident, Notification
from incidents.templating import (
    PLACEHOLDERS,
    local_since,
    placeholder_values,
    render,
    template_error,
    unknown_placeholders,
)
from monitoring.failures import FailureClass

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
VALUES = {name: f"<{name}>" for name in PLACEHOLDERS}

HOSTILE = [
    "{{ cycler.__init__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{monitor.__class__}",
    "{monitor.__class__.__init__.__globals__}",
    "{0}",
    "{site!r}",
    "{site:>20}",
    "{site[0]}",
    "%(x)s",
    "${HOME}",
    "{% debug %}",
    "{}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_it_writes_anything_but_known_placeholders_literally(template):
    assert render(template, VALUES) == template


def test_it_replaces_each_known_placeholder():
    template = " ".join("{" + name + "}" for name in PLACEHOLDERS)
    assert render(template, VALUES) == " ".join(f"<{name}>" for name in PLACEHOLDERS)


def test_it_keeps_doubled_braces_literal_around_a_known_name():
    assert render("{{site}} {site} }}{{", {"site": "Shop"}) == "{{site}} Shop }}{{"


def test_it_never_expands_placeholders_inside_inserted_values():
    values = {**VALUES, "site": "{monitor} {{ cycler }}", "monitor": "Home"}
    assert render("{site} / {monitor}", values) == "{monitor} {{ cycler }} / Home"


def test_it_leaves_a_json_body_alone():
    template = '{"text": "{site} is {state}", "n": {"a": 1}}'
    assert render(template, {"site": "Shop", "state": "down"}) == (
        '{"text": "Shop is down", "n": {"a": 1}}'
    )
    assert unknown_placeholders(template) == []


@pytest.mark.parametrize(
    ("template", "reported"),
    [
        ("{monitor.__class__}", ["{monitor.__class__}"]),
        ("{0} and {0}", ["{0}"]),
        ("{site!r}", ["{site!r}"]),
        ("{sitee} {site}", ["{sitee}"]),
        ("{SITE}", ["{SITE}"]),
        ("{{ cycler.__init__ }}", []),
        ("{{site}}", []),
        ("%(x)s", []),
    ],
)
def test_it_reports_unknown_placeholders(template, reported):
    assert unknown_placeholders(template) == reported


def test_it_refuses_a_channel_template_naming_the_field_and_placeholder(world):
    channel = Channel.objects.get(name="A hook")
    channel.body_template = "Down: {site} {sitee}"
    channel.title_template = "{monitor.__class__}"
    with pytest.raises(ValidationError) as refused:
        channel.full_clean()
    errors = refused.value.message_dict
    assert "{sitee}" in errors["body_template"][0]
    assert "{monitor.__class__}" in errors["title_template"][0]
    assert "{site}" in (template_error("{x}") or "")  # the message lists the known names


def _incident(world) -> Incident:
    return Incident.objects.create(
        monitor=world.monitor_a,
        opened_at=T0,
        failure_class="http_status",
        message="HTTP 500",
    )


def test_it_builds_the_values_of_an_alert(world, settings):
    settings.SITECARE_BASE_URL = "https://care.example"
    world.site_a.time_zone = "Europe/Warsaw"
    world.site_a.save()
    incident = _incident(world)
    values = placeholder_values(incident, EventKind.OPENED, dedup_key="k-1", ack_url="https://a")
    assert set(values) == set(PLACEHOLDERS)
    assert values["site"] == "Shop A"
    assert values["client"] == "Client A"
    assert values["monitor"] == "Home"
    assert values["state"] == "down"
    assert values["reason"] == "Unexpected HTTP status"
    assert values["message"] == "HTTP 500"
    assert values["since"] == "2026-07-01 12:00:00 (Europe/Warsaw)"
    assert values["severity"] == "Major"
    assert values["incident_url"] == f"https://care.example/incidents/{incident.pk}/"
    assert values["ack_url"] == "https://a"
    assert values["dedup_key"] == "k-1"
    assert placeholder_values(incident, EventKind.RESOLVED, dedup_key="k")["state"] == "up"


def test_it_writes_a_channels_own_texts_into_the_outbox(world):
    channel = Channel.objects.get(name="A hook")
    channel.title_template = "{state}: {site} {{ cycler.__init__ }}"
    channel.body_template = "{monitor} ({reason}) since {since} ref {dedup_key} {0}"
    channel.save()
    incident = _incident(world)

    enqueue_notifications(incident, EventKind.OPENED, now=T0)

    row = Notification.objects.get(channel=channel)
    key = dedup_key(incident, EventKind.OPENED, channel)
    assert row.title == "down: Shop A {{ cycler.__init__ }}"
    since = local_since(incident)
    assert row.body == f"Home (Unexpected HTTP status) since {since} ref {key} {{0}}"


def test_it_keeps_the_built_in_texts_for_a_channel_without_templates(world):
    channel = Channel.objects.get(name="A hook")
    channel.title_template = "{site} is {state}"
    channel.save()
    incident = _incident(world)
    enqueue_notifications(incident, EventKind.OPENED, now=T0)
    row = Notification.objects.get(channel=channel)
    assert row.title == "Shop A is down"
    assert row.body.startswith("Home on Shop A (Client A) is down.")  # the built-in body


def test_it_writes_placeholder_values_in_the_agency_language(world):
    world.agency.language = "pl"
    world.agency.save()
    values = placeholder_values(_incident(world), EventKind.OPENED, dedup_key="k")
    with translation.override("pl"):
        polish = str(FailureClass.HTTP_STATUS.label)
    assert polish != "Unexpected HTTP status"  # the catalogue has it: the check means something
    assert values["reason"] == polish
