"""Wrong passwords sent at the same moment: each attempt is counted before its password is
looked at, so a burst gets no more checks than the same attempts one after another would."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitecare.tests.processes import fresh_env, last_json, run_python
from tenancy.models import ThrottleKind
from tenancy.throttle import POLICIES

BURST = 12


def burst(mode: str, var_dir: Path) -> dict[str, object]:
    done = run_python("-m", "front.tests.signin_burst", mode, str(BURST), env=fresh_env(var_dir))
    result: dict[str, object] = last_json(done)
    return result


@pytest.mark.parametrize("mode", ["sign-in", "password-change"])
def test_it_checks_no_more_passwords_of_a_burst_than_one_after_another(tmp_path, mode):
    result = burst(mode, tmp_path / "var")
    assert result["answers"] == [200] * BURST
    # Five failures are free and the sixth locks: six passwords looked at, never more.
    assert result["failures"] == POLICIES[ThrottleKind.ACCOUNT].free_failures + 1
