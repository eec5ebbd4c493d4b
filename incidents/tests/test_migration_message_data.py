"""Sentences stored before messages became data read in the viewer's language after the
upgrade; what no template reads (a note someone typed, an unknown text) stays as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from incidents.models import IncidentEvent
from monitoring.models import CheckResult
from sitecare.tests.migrating import rewound
from sites.models import Site
from tenancy.models import Client, Organization

BEFORE = [
    ("monitoring", "0013_tags"),
    ("incidents", "0013_policy_assignment_per_monitor"),
]
AFTER = [("monitoring", "0014_message_as_data"), ("incidents", "0014_message_as_data")]
NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_it_reads_old_sentences_back_into_codes_and_keeps_the_rest() -> None:
    with rewound(BEFORE) as database:
        old = database.apps
        # Tenancy and sites are not rewound: their current models fit their tables.
        org = Organization.objects.create(name="A", slug="a")
        client = Client.objects.create(organization=org, name="C", slug="c")
        site = Site.objects.create(client=client, name="S", slug="s", url="https://a.example")
        monitor = old.get_model("monitoring", "Monitor").objects.create(
            site_id=site.pk, name="Home", kind="http", url="https://a.example/"
        )
        results = old.get_model("monitoring", "CheckResult").objects
        for text in ("HTTP 500, expected 200-399.", "HTTP 500, expected 200-399.", "Odd text"):
            results.create(monitor_id=monitor.pk, checked_at=NOW, ok=False, message=text)
        incident = old.get_model("incidents", "Incident").objects.create(
            monitor_id=monitor.pk, opened_at=NOW, message="HTTP 500, expected 200-399."
        )
        events = old.get_model("incidents", "IncidentEvent").objects
        for kind, text in (
            ("notification_sent", "Wysłano do kanału Ops."),  # stored in the agency's Polish
            ("note", "Sent to Ops."),  # typed by someone: never a template
        ):
            events.create(incident_id=incident.pk, at=NOW, kind=kind, message=text)
        database.migrate(AFTER)
    stored = {r.message: r for r in CheckResult.objects.all()}
    assert stored["HTTP 500, expected 200-399."].message_code == (
        "HTTP %(status)d, expected %(expected)s."
    )
    assert stored["HTTP 500, expected 200-399."].message_args == {
        "status": 500,
        "expected": "200-399",
    }
    assert stored["Odd text"].message_code == ""
    sent = IncidentEvent.objects.get(kind="notification_sent")
    note = IncidentEvent.objects.get(kind="note")
    with translation.override("en"):
        assert sent.message_text == "Sent to Ops."
        assert note.message_text == "Sent to Ops." and note.message_code == ""
        assert stored["Odd text"].message_text == "Odd text"
    with translation.override("pl"):
        assert stored["HTTP 500, expected 200-399."].message_text == "HTTP 500, oczekiwano 200-399."
