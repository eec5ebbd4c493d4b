"""Helpers shared by the benchmarks in bench/: local processes and a throwaway database."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def start(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A child in its own process group (so it and its children can be killed together)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (and its reaped children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime (reaped children's included) of a process and every live process below
    it: a browser check's CPU is spread over Playwright's driver and Chromium's processes."""
    from sitecare.lib.procinfo import descendants  # bench/ is run before ROOT is on the path

    total = 0
    for each in {pid} | descendants(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / CLK_TCK


# The demo shop's five-step transaction (product → add to cart → the cart → checkout → the pay
# button is there), the unit of bench/browser.py and bench/browser_capacity.py.
DEMO_FIVE_STEPS: list[dict[str, Any]] = [
    {"action": "goto", "url": "/product/1"},
    {"action": "click", "role": "button", "name": "Add to cart"},
    {"action": "expect_url", "url": "**/cart"},
    {"action": "click", "role": "link", "name": "Go to checkout"},
    {"action": "expect_visible", "role": "button", "name": "Pay now"},
]


def use_temporary_database(directory: Path) -> Path:
    """Configure Django on a fresh SQLite file (before any sitecare import) and migrate it."""
    database = directory / "bench.sqlite3"
    os.environ["SITECARE_VAR_DIR"] = str(directory)
    os.environ["SITECARE_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "sitecare.settings"
    os.environ.setdefault("SITECARE_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django  # imported late: the environment above configures it
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return database


# --- the engine's Prometheus metrics -------------------------------------------------------


def scrape(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1.0) as reply:
            body: bytes = reply.read()
            return body.decode()
    except OSError:
        return None


def lag_buckets(metrics: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of the schedule-lag histogram."""
    buckets = []
    pattern = r'^sitecare_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$'
    for match in re.finditer(pattern, metrics, re.M):
        buckets.append((float(match.group(1)), float(match.group(2))))
    return sorted(buckets)


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """The upper bound of the bucket holding the q-quantile (None when empty)."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    for bound, count in buckets:
        if count >= rank:
            return bound
    return buckets[-1][0]
