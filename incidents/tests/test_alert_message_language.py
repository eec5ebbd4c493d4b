"""An alert says what the monitor saw in the agency's language, whatever language the engine
stored it in."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import translation

from incidents.logic import render_message
from incidents.models import EventKind, Incident
from incidents.templating import placeholder_values
from sitecare.lib.messages import deferred as _

NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def _incident(world) -> Incident:
    with translation.override("en"):  # the engine's language
        seen = _("HTTP %(status)d, expected %(expected)s.") % {"status": 502, "expected": "200"}
    return Incident.objects.create(monitor=world.monitor_a, opened_at=NOW, message=seen)


def test_it_writes_the_cause_in_the_agencys_language(world):
    world.agency.language = "pl"
    world.agency.save(update_fields=["language"])
    incident = Incident.objects.select_related("monitor__site__client__organization").get(
        pk=_incident(world).pk
    )
    _title, body = render_message(incident, EventKind.OPENED, "k")
    assert "Szczegóły: HTTP 502, oczekiwano 200." in body
    assert "expected" not in body
    assert (
        placeholder_values(incident, EventKind.OPENED, dedup_key="k")["message"]
        == "HTTP 502, oczekiwano 200."
    )


def test_it_writes_the_cause_in_english_for_an_english_agency(world):
    world.agency.language = "en"
    world.agency.save(update_fields=["language"])
    _title, body = render_message(_incident(world), EventKind.OPENED, "k")
    assert "Details: HTTP 502, expected 200." in body
