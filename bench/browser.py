"""Browser checks: CPU seconds of one page load in a session, and checks per minute per core.

A skeleton: it loads a local page (through the guard proxy, like every check) in N sessions of
the process's pooled browser and counts the CPU of everything involved: this process (the
proxy's thread, Playwright's client), the Playwright driver and the browser's whole process
tree. The transaction and speed kinds add their own loops here (five-step transaction, speed
measurement).

Run by hand (not part of the test suite)::

    uv run python bench/browser.py              # 20 checks
    uv run python bench/browser.py --checks 5   # a quick look

1. Configure Django (a temporary VAR_DIR); serve a small page with an image and a script from
   127.0.0.2 (admitted by the session's allowlist).
2. One warm-up check (launches the browser), then N checks: open a session, ``goto`` (load),
   a screenshot, close.
3. CPU = utime + stime (+ reaped children's) of this process and every process below it,
   before and after; print CPU seconds per check, wall seconds per check and checks per
   minute per core (60 / CPU seconds per check).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = b"""<!doctype html><title>bench</title><h1>A product</h1>
<img src="/pixel.svg" width="300" height="200"><p>Some text.</p>
<script>document.querySelector("h1").textContent += " (ready)";</script>"""
PIXEL = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">'
    b'<rect width="300" height="200" fill="#4a8"/></svg>'
)


def tree_cpu_seconds() -> float:
    """CPU of this process and every live process below it (reaped children included)."""
    from sitecare.lib.procinfo import descendants

    total = 0
    for pid in {os.getpid()} | descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / CLK_TCK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20)
    args = parser.parse_args()
    os.environ["SITECARE_VAR_DIR"] = tempfile.mkdtemp(prefix="bench-browser-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "sitecare.settings"
    os.environ.setdefault("SITECARE_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from monitoring.browser.pool import pool
    from monitoring.browser.session import SessionOptions, open_session
    from monitoring.tests.browser_sites import PageServer, Route

    options = SessionOptions(allowlist=(ipaddress.ip_network("127.0.0.2/32"),), record_trace=False)
    routes = {"/": Route(PAGE), "/pixel.svg": Route(PIXEL, "image/svg+xml")}
    with PageServer("127.0.0.2", routes) as site:

        def one_check() -> None:
            with open_session(options) as session:
                session.page.goto(site.url("/"), wait_until="load")
                session.page.screenshot()

        one_check()  # warm-up: launches the browser
        cpu, wall = tree_cpu_seconds(), time.perf_counter()
        for _ in range(args.checks):
            one_check()
        cpu, wall = tree_cpu_seconds() - cpu, time.perf_counter() - wall
        pool().close()
    per_check = cpu / args.checks
    print(f"checks: {args.checks}")
    print(f"CPU seconds per check (page load + screenshot): {per_check:.3f}")
    print(f"wall seconds per check: {wall / args.checks:.3f}")
    print(f"checks per minute per core (CPU-bound): {60 / per_check:.0f}")


if __name__ == "__main__":
    main()
