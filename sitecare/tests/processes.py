"""Python, or a ``sitecare`` command, run in a process of its own, as an operator's would run.

For what only a fresh process shows (the settings it reads from its environment, the keys
it makes on first start, the modes of the files it creates) and for what needs a real
SQLite file that threads write at once. The process starts in the repository with this
test run's environment, minus the test run's own choice of settings module and database
(``fresh_env``), so sitecare's defaults apply unless the test sets a variable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# The test run's own choices, which a fresh sitecare process must not inherit.
_TEST_RUN_VARIABLES = ("DJANGO_SETTINGS_MODULE", "SITECARE_DATABASE_URL")


def fresh_env(var_dir: Path, **variables: str | None) -> dict[str, str]:
    """The environment of a fresh sitecare process keeping its files in ``var_dir``, with
    ``variables`` set (a variable given as None is unset)."""
    env = {**os.environ, "SITECARE_VAR_DIR": str(var_dir)}
    for name in _TEST_RUN_VARIABLES:
        env.pop(name, None)
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(
    *args: str,
    env: dict[str, str],
    umask: int = -1,
    timeout: float = 120,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``python *args`` in the repository, under ``umask`` if one is given (-1: this
    process's); unless ``check`` is False it must end with 0 (its stderr is shown if not)."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        umask=umask,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def run_sitecare(
    *args: str, env: dict[str, str], umask: int = -1, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``sitecare *args`` (the command line an operator types), which must end with 0."""
    return run_python("-m", "sitecare.cli", *args, env=env, umask=umask, timeout=timeout)


def last_json(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a process printed as its last line of output."""
    return json.loads(done.stdout.strip().splitlines()[-1])
