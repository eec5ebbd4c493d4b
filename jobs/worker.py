"""A job worker process: runs the calls its runner hands it, one at a time.

Started by the runner (``jobs.pool``) as ``python -m jobs.worker REPLY_FD`` in a session (so a
process group) of its own, tied to the runner's life. It reads one JSON call a line on stdin
(``{"call": "jobs.execute.run_job", "args": [12, "token"]}``), runs it and writes one JSON
reply a line to ``REPLY_FD`` (stdout stays free for the job's own logs). It ends when stdin
closes. Long-lived on purpose: a browser is expensive to start, and a worker may keep one.

On SIGTERM (the runner died: the kernel's parent-death signal) it kills its whole process
group, so what it started (a browser) does not outlive it either.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from types import FrameType
from typing import Any

import django
from django.db import connections
from django.utils.module_loading import import_string

from jobs import registry


def _end_group(signum: int, frame: FrameType | None) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def run_call(call: dict[str, Any]) -> dict[str, Any]:
    """Run one call; its return value, or the exception it raised, as a reply."""
    try:
        function = import_string(call["call"])
        return {"ok": True, "value": function(*call.get("args", []))}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        # An idle worker holds no connection (SQLite locks, PostgreSQL slots).
        connections.close_all()


def main(argv: list[str]) -> int:
    reply_fd = int(argv[1])
    signal.signal(signal.SIGTERM, _end_group)
    # Ctrl-C in a terminal is the runner's to handle (it stops the workers itself).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitecare.settings")
    django.setup()
    registry.load()
    with os.fdopen(reply_fd, "w", encoding="utf-8") as replies:
        # Ready: a job's time limit starts when it is handed over, not while Django loads.
        replies.write(json.dumps({"ready": True}) + "\n")
        replies.flush()
        for line in sys.stdin:
            if not line.strip():
                continue
            reply = run_call(json.loads(line))
            replies.write(json.dumps(reply, default=str) + "\n")
            replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
