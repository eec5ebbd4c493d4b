"""Wrong passwords sent at the same moment: each attempt is counted before its password is
looked at, so a burst gets no more checks than the same attempts one after another would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenancy.models import ThrottleKind
from tenancy.throttle import POLICIES

REPO = Path(__file__).resolve().parents[2]
BURST = 12


def burst(mode: str, var_dir: Path) -> dict[str, object]:
    env = {**os.environ, "SITECARE_VAR_DIR": str(var_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("SITECARE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "front.tests.signin_burst", mode, str(BURST)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("mode", ["sign-in", "password-change"])
def test_it_checks_no_more_passwords_of_a_burst_than_one_after_another(tmp_path, mode):
    result = burst(mode, tmp_path / "var")
    assert result["answers"] == [200] * BURST
    # Five failures are free and the sixth locks: six passwords looked at, never more.
    assert result["failures"] == POLICIES[ThrottleKind.ACCOUNT].free_failures + 1
