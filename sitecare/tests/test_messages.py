"""Messages kept as data read in the reader's language and time zone, whenever shown."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone, translation

from incidents.models import Incident
from monitoring.checks import dns
from monitoring.failures import FailureClass
from sitecare.lib import message_history
from sitecare.lib.messages import (
    Message,
    deferred,
    deferred_plural,
    joined,
    render,
    render_in,
    stored,
)

_ = deferred


def test_it_reads_as_the_sentence_of_the_language_active_when_made():
    with translation.override("en"):
        made = _("HTTP %(status)d, expected %(expected)s.") % {"status": 500, "expected": "200-399"}
    assert made == "HTTP 500, expected 200-399."
    assert isinstance(made, Message)
    assert made.data() == (
        "HTTP %(status)d, expected %(expected)s.",
        {"status": 500, "expected": "200-399"},
    )


def test_it_renders_stored_data_in_the_readers_language():
    with translation.override("en"):
        code, args = (
            _("HTTP %(status)d, expected %(expected)s.") % {"status": 500, "expected": "200-399"}
        ).data()
    assert render_in("pl", code, args) == "HTTP 500, oczekiwano 200-399."
    assert render_in("en", code, args) == "HTTP 500, expected 200-399."


def test_it_keeps_nested_messages_lazy_labels_and_plurals_as_data():
    with translation.override("en"):
        inner = _("The channel is disabled.")
        outer = _("Sending failed unexpectedly (%(error)s).") % {"error": inner}
        label = _("Reason: %(reason)s") % {"reason": FailureClass.TIMEOUT.label}
        plural = deferred_plural(
            "It went down again soon after recovering %(count)d time (flapping).",
            "It went down again soon after recovering %(count)d times (flapping).",
            5,
        ) % {"count": 5}
    with translation.override("pl"):
        assert (
            render(*outer.data())
            == "Wysyłka nieoczekiwanie się nie powiodła (Kanał jest wyłączony.)."
        )
        assert render(*label.data()) == "Przyczyna: Serwer nie odpowiedział na czas"
        assert (
            render(*plural.data())
            == "Wkrótce po przywróceniu dostępności ponownie przestał działać 5 razy "
            "(wahania stanu)."
        )


def test_it_shows_moments_in_the_readers_time_zone():
    at = datetime(2026, 12, 7, 20, 2, tzinfo=UTC)
    code, args = (_("Down since: %(since)s") % {"since": at}).data()
    assert args == {"since": {"$datetime": "2026-12-07T20:02:00+00:00"}}
    with translation.override("pl"), timezone.override(ZoneInfo("Europe/Warsaw")):
        assert render(code, args) == "Niedostępny od: 7 grudnia 2026 21:02"
    with translation.override("en"), timezone.override(ZoneInfo("America/New_York")):
        assert render(code, args) == "Down since: 7 Dec 2026, 15:02"
    assert (_("Down since: %(since)s") % {"since": date(2026, 12, 7)}).data()[1] == {
        "since": {"$date": "2026-12-07"}
    }


def test_it_shows_text_without_a_code_as_it_was_stored():
    assert render("", {}, "Zrobione ręcznie.") == "Zrobione ręcznie."


def test_it_falls_back_to_english_when_a_translation_does_not_fit_its_args():
    with translation.override("pl"):
        assert render("HTTP %(status)d, expected %(expected)s.", {"status": 500}, "old") == "old"


def test_it_keeps_code_and_args_when_the_text_is_cut_to_a_column():
    made = _("The text “%(keyword)s” is missing.") % {"keyword": "x" * 600}
    cut = made.clipped(500)
    assert len(cut) == 500
    assert cut.data() == made.data()


def test_it_reads_old_english_and_polish_sentences_back_into_codes():
    assert message_history.read_back("HTTP 503, expected 200-399.") == (
        "HTTP %(status)d, expected %(expected)s.",
        {"status": 503, "expected": "200-399"},
    )
    assert message_history.read_back("Sent to Ops Slack.") == (
        "Sent to %(channel)s.",
        {"channel": "Ops Slack"},
    )
    assert message_history.read_back("HTTP 503, oczekiwano 200-399.") == (
        "HTTP %(status)d, expected %(expected)s.",
        {"status": 503, "expected": "200-399"},
    )
    assert message_history.read_back("Something someone typed.") is None


def test_it_renders_joined_sentences_each_in_the_readers_language():
    with translation.override("en"):
        made = dns.mismatch_message("a.example", "A", ["192.0.2.1"], [])
    assert made == "A a.example is not as expected. Missing: 192.0.2.1."
    _text, code, args = stored(made, 1000)
    with translation.override("pl"):
        assert render(code, args) == (
            "A a.example ma inną wartość niż oczekiwana. Brakuje: 192.0.2.1."
        )


def test_it_names_changed_fields_in_the_readers_language():
    fields = {field.name: field.verbose_name for field in Incident._meta.fields}
    names = [fields["postmortem"], fields["root_cause"]]
    with translation.override("en"):
        made = _("Changed: %(fields)s.") % {"fields": joined(names, ", ")}
    assert made == "Changed: postmortem, root cause."
    with translation.override("pl"):
        assert render(*made.data()).startswith("Zmieniono: ")
        assert "root cause" not in render(*made.data())


def test_it_survives_pickling_with_its_text_code_and_args():
    with translation.override("pl"):
        made = _("Sent to %(channel)s.") % {"channel": "Ops"}
    again = pickle.loads(pickle.dumps(made))
    assert (again, again.data()) == ("Wysłano do kanału Ops.", made.data())
