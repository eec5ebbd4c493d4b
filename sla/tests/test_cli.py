"""``sitecare sla``: a client's SLA as a table or as JSON, and clear refusals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from api.tests.conftest import ApiCaller
from incidents.models import Incident, IncidentState
from incidents.models.core import Severity
from monitoring.models import Monitor, MonitorState, StateChange
from sitecare.cli import main
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from tenancy.models import ApiToken, Client, Organization

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def shop(world):
    """Client A on the seasonal-shop example, watched since January, one hour down on
    10 September (an incident acknowledged after 20 minutes)."""
    install_example_plans(world.agency)
    plan = CarePlan.objects.get(organization=world.agency, slug="seasonal-shop")
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    Monitor.objects.filter(pk=world.monitor_a.pk).update(
        created_at=datetime(2026, 1, 1, tzinfo=UTC), state=MonitorState.UP
    )
    for when, old, new in (
        (datetime(2026, 1, 1, 0, 1, tzinfo=UTC), "unknown", "up"),
        (at(10, 10), "up", "down"),
        (at(10, 11), "down", "up"),
    ):
        StateChange.objects.create(monitor=world.monitor_a, at=when, from_state=old, to_state=new)
    return Incident.objects.create(
        monitor=world.monitor_a,
        opened_at=at(10, 10),
        acknowledged_at=at(10, 10, 20),
        resolved_at=at(10, 11),
        state=IncidentState.RESOLVED,
        severity=Severity.CRITICAL,
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command("sla", *args, stdout=out)
    return out.getvalue()


@time_machine.travel(NOW, tick=False)
def test_it_prints_the_same_json_as_the_api(world, shop):
    printed = json.loads(run("--client", "client-a", "--period", "2026-09", "--json"))
    _token, raw = ApiToken.issue(world.owner, "tests")
    answer = ApiCaller(raw).get(f"/clients/{world.client_a.pk}/sla", period="2026-09").json()
    assert printed == answer
    assert printed["window"]["figures"]["availability_percent"] == "99.861"
    assert printed["window"]["credit"]["amount"] == "149.00"


@time_machine.travel(NOW, tick=False)
def test_it_prints_a_table_with_the_figures_and_the_verdict(world, shop):
    Client.objects.filter(pk=world.client_a.pk).update(name="Client [b]A[/b]")
    text = run("--client", str(world.client_a.pk), "--period", "2026-09", "--history", "2")
    assert "Client [b]A[/b] · 2026-09 (Europe/Warsaw)" in text  # markup printed as it is
    assert "Care plan Seasonal shop: 99.9 % a month" in text
    assert "99.861 %" in text
    assert "│  1 h │" in text  # the downtime, to the second (no trailing zero units)
    assert "Window 2026-09 (complete): 99.861 % against 99.9 %: Missed" in text
    assert "Used up on" in text and "2026-09-10 12:43:12" in text  # Warsaw time
    assert "Credit owed: 10 % of 1,490.00 PLN = 149.00 PLN" in text
    assert f"#{shop.pk}" in text and "20 min" in text  # the response breach
    assert "2026-09-10 12:00:00" in text and "Shop A" in text  # the outage behind it
    assert "2026-08" in text and "100.000 %" in text  # the history


@time_machine.travel(NOW, tick=False)
def test_it_words_and_rounds_the_table_as_the_page_does_in_the_agency_s_language(world, shop):
    """Review L5 and L6: the page's labels ("Time in scope", "Unknown"), its precision (budget
    used to 0.1 %, burn rate to 0.01, rounded down), whole units only, and Polish when the
    agency's language is Polish (or ``--language pl``)."""
    text = run("--client", "client-a", "--period", "2026-09")
    assert "Time in scope" in text and "Unknown (not watched)" not in text
    assert re.search(r"Used +1 h \(\d+\.\d %", text)  # one decimal, as on the page
    assert re.search(r"Burn rate +\d+\.\d\d×", text)
    assert "0 h 0 min" not in text
    Organization.objects.filter(pk=world.agency.pk).update(language="pl")
    polish = run("--client", "client-a", "--period", "2026-09")
    assert "Czas objęty SLA" in polish and "Dostępność" in polish
    assert "99,861%" in polish and "1\xa0490,00 PLN" in polish
    assert "Time in scope" in run("--client", "client-a", "--period", "2026-09", "--language", "en")


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_client_without_a_plan(world, shop):
    text = run("--client", "client-b", "--period", "2026-09")
    assert "No care plan in this period: around the clock, no target." in text
    assert "Window" not in text and "Credit owed" not in text


def test_it_needs_the_agency_when_a_client_slug_is_ambiguous(world, shop):
    other = Organization.objects.create(name="Other", slug="other")
    Client.objects.create(organization=other, name="Other A", slug="client-a")
    with pytest.raises(CommandError, match=r"Several agencies .* \(agency, other\): add --agency"):
        run("--client", "client-a", "--json")
    chosen = json.loads(run("--client", "client-a", "--agency", "other", "--json"))
    assert (chosen["client"]["name"], chosen["plan"]) == ("Other A", None)
    assert json.loads(run("--client", "client-a", "--agency", "agency", "--json"))["plan"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--client", "nobody"], "No client with slug or id nobody."),
        (["--client", "client-a", "--agency", "nowhere"], "No agency with slug nowhere."),
        (["--client", "client-a", "--period", "2026-13"], "period: 2026-13 has no such month"),
        (["--client", "client-a", "--period", "last"], "is not a month or a quarter"),
        (["--client", "client-a", "--history", "37"], "--history must be from 0 to 36"),
    ],
)
def test_it_refuses_bad_input_with_a_message_and_exit_code_2(world, shop, args, words):
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert words in str(refused.value)
    assert refused.value.returncode == 2


def test_it_exits_non_zero_from_the_sitecare_command(world, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["sla", "--client", "nobody"])
    assert stopped.value.code == 2
    assert "No client with slug or id nobody." in capsys.readouterr().err
