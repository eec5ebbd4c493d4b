"""Starting a ``sitecare`` command loads no heavy library it does not use.

The holiday calendars (~250 country modules), Apprise, Playwright, pydantic with
django-ninja and the check kinds cost seconds of CPU at every start of every command when
they are imported up front; each is imported where it is used. Each test starts a fresh
process and reads its ``sys.modules``: no timing, so a loaded machine cannot make it flaky.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitecare.tests.processes import fresh_env, last_json, run_python

# Runs the console script's entry point with the given arguments, then prints which of the
# named packages it loaded.
PROGRAM = """
import json, sys
from sitecare.cli import main
names, argv = json.loads(sys.argv[1]), sys.argv[2:]
try:
    main(argv)
except SystemExit:
    pass
print()
print(json.dumps(sorted(n for n in names if n in sys.modules)))
"""
NEVER_AT_START = ["holidays", "apprise", "playwright"]
NOT_FOR_HELP = [*NEVER_AT_START, "pydantic", "ninja", "dns", "rich", "cryptography"]


def loaded(tmp_path: Path, names: list[str], *argv: str) -> list[str]:
    """Which of ``names`` a fresh ``sitecare *argv`` process imported."""
    done = run_python("-c", PROGRAM, json.dumps(names), *argv, env=fresh_env(tmp_path))
    found: list[str] = last_json(done)
    return found


def test_it_starts_the_help_without_heavy_libraries(tmp_path: Path) -> None:
    assert loaded(tmp_path, NOT_FOR_HELP, "--help") == []


@pytest.mark.parametrize("command", ["check", "sla", "probe-engine"])
def test_it_shows_a_commands_help_without_heavy_libraries(tmp_path: Path, command: str) -> None:
    assert loaded(tmp_path, NEVER_AT_START, command, "--help") == []


def test_it_still_loads_them_where_they_are_used(tmp_path: Path) -> None:
    """A calendar with public holidays loads the package (the probe is not blind)."""
    program = (
        "import sys, django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'sitecare.settings';"
        "django.setup();"
        "from datetime import date; from sla.calendar import Calendar;"
        "assert Calendar(country='PL').is_closed(date(2026, 11, 11));"
        "print(); print('holidays' in sys.modules)"
    )
    done = run_python("-c", program, env=fresh_env(tmp_path))
    assert done.stdout.strip().splitlines()[-1] == "True"
