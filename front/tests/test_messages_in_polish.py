"""Stored messages read in the viewer's language: results, state changes, incidents and every
timeline sentence sitecare writes appear in Polish on the Polish monitor, incident and site
pages, and their English sentence nowhere."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import translation
from django.utils.html import escape

from api.tests.conftest import ApiCaller
from front.tests.conftest import signed_in
from incidents import alert_order
from incidents.models import (
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
)
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from sitecare.lib import messages
from sitecare.lib.message_history import TEMPLATES
from sitecare.lib.messages import Message, deferred, render
from tenancy.models import ApiToken, Membership

_ = deferred
NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
PLACEHOLDER = re.compile(r"%\((\w+)\)([-#0 +]*\d*(?:\.\d+)?[sdifr])")
# One failure of each check kind, as its module words it (the engine stores them in English).
KIND_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("HTTP %(status)d, expected %(expected)s.", {"status": 500, "expected": "200-399"}),
    ("%(host)s is open but must be closed.", {"host": "db.a.example:5432"}),
    (
        "The certificate of %(host)s expires in %(days)d days (%(date)s).",
        {"host": "a.example", "days": 9, "date": "2026-12-16"},
    ),
    ("The canonical link points elsewhere: %(url)s", {"url": "https://b.example/"}),
    (
        "No ping since %(last)s; one was expected by %(deadline)s.",
        {"last": "20:00", "deadline": "21:00"},
    ),
]


def sample(template: str) -> dict[str, Any]:
    """Plain values for a template's placeholders (numbers for numbers)."""
    values: dict[str, Any] = {}
    for name, spec in PLACEHOLDER.findall(template):
        values[name] = 7 if spec[-1] in "di" else 1.5 if spec[-1] == "f" else f"<{name}>"
    return values


def made_in_english(template: str, args: dict[str, Any]) -> Message:
    with translation.override("en"):
        return _(template) % args if args else _(template)


def translated(template: str, args: dict[str, Any]) -> tuple[str, str]:
    """The sentence in English and in Polish, as the page escapes it."""
    with translation.override("en"):
        english = render(template, args)
    with translation.override("pl"):
        polish = render(template, args)
    return escape(english), escape(polish)


@pytest.fixture
def polish_owner(world):
    Membership.objects.filter(user=world.owner).update(language="pl")
    return signed_in(world.owner)


@pytest.fixture
def stored(world):
    """Results and a down flip of each kind's message, and an incident whose timeline holds
    every sentence sitecare writes."""
    monitor = world.monitor_a
    with time_machine.travel(NOW, tick=False):
        outcomes = [
            Outcome(
                monitor.pk,
                NOW - timedelta(minutes=10 - i),
                ok=False,
                failure_class=FailureClass.HTTP_STATUS,
                message=made_in_english(t, a),
            )
            for i, (t, a) in enumerate(KIND_MESSAGES)
        ]
        record_results(outcomes)
    incident = Incident.objects.filter(monitor=monitor).first()
    if incident is None:
        incident = Incident.objects.create(
            monitor=monitor, opened_at=NOW, message=outcomes[0].message
        )
    for template in TEMPLATES:
        IncidentEvent.objects.create(
            incident=incident,
            at=NOW,
            kind=EventKind.NOTIFICATION_SENT,
            message=made_in_english(template, sample(template)),
        )
    return incident


def test_it_shows_the_monitors_results_and_changes_in_polish(world, stored, polish_owner):
    page = polish_owner.get(f"/monitors/{world.monitor_a.pk}/").content.decode()
    for template, args in KIND_MESSAGES:
        english, polish = translated(template, args)
        assert polish in page, polish
        assert english not in page, english


def test_it_shows_every_timeline_sentence_in_polish(world, stored, polish_owner):
    page = polish_owner.get(f"/incidents/{stored.pk}/").content.decode()
    checked = 0
    for template in TEMPLATES:
        english, polish = translated(template, sample(template))
        if english == polish:
            continue  # the same in both (a bare "%(error)s"): nothing to tell apart
        assert polish in page, (template, polish)
        assert english not in page, (template, english)
        checked += 1
    assert checked > 150


def test_it_shows_the_incident_cause_and_last_failure_in_polish_on_the_site_page(
    world, stored, polish_owner
):
    assert stored.state == IncidentState.OPEN
    page = polish_owner.get(f"/sites/{world.site_a.pk}/").content.decode()
    cause: tuple[str, dict[str, Any]] = (stored.message_code, stored.message_args)
    for template, args in (cause, KIND_MESSAGES[-1]):  # the incident's, the last result's
        english, polish = translated(template, args)
        assert polish in page, polish
        assert english not in page, english


def test_it_answers_the_api_with_the_code_the_args_and_the_text_in_its_language(
    world, stored, polish_owner
):
    _token, raw = ApiToken.issue(world.owner, "tests")
    caller = ApiCaller(raw)
    caller.headers["Accept-Language"] = "pl"
    found = caller.get(f"/incidents/{stored.pk}").json()
    assert (found["message_code"], found["message_args"]) == (
        stored.message_code,
        stored.message_args,
    )
    assert stored.message_code in {template for template, _args in KIND_MESSAGES}
    with translation.override("pl"):
        assert found["message"] == render(stored.message_code, stored.message_args)
    events = {e["message_code"]: e for e in found.get("events", [])}
    sent = events["Sent to %(channel)s."]
    assert sent["message"] == "Wysłano do kanału <channel>."


def test_it_shows_why_an_alert_was_held_back_in_polish(world, stored, polish_owner):
    channel = Channel.objects.get(client=world.client_a)
    notification = Notification.objects.create(
        channel=channel,
        incident=stored,
        event=EventKind.OPENED,
        dedup_key="held-1",
        title="[DOWN]",
        body="…",
        next_attempt_at=NOW,
        created_at=NOW,
    )
    with translation.override("en"):  # the agency's language when it was held back
        error = alert_order.held_back_error()
    held = messages.columns("last_error", error, 500)
    Notification.objects.filter(pk=notification.pk).update(state="failed", **held)
    Channel.objects.filter(pk=channel.pk).update(**held)
    english, polish = translated(held["last_error_code"], {})
    for path in (f"/incidents/{stored.pk}/", f"/channels/{channel.pk}/"):
        page = polish_owner.get(path).content.decode()
        assert polish[:100] in page, path
        assert english[:100] not in page, path
