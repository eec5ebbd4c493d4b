"""The demo shop's mode (working or broken in one of a few ways), kept in a small JSON file.

The file lives under ``settings.VAR_DIR`` so that ``sitecare demo-site --break``, the admin
toggle in the web UI and the running shop (which reads it on every request) share it without
talking to each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

STATE_FILE = "demo-site.json"


class DemoMode(models.TextChoices):
    OK = "ok", _("Working")
    CHECKOUT = "checkout", _("Checkout broken")
    ALL = "all", _("Whole shop down")
    SLOW = "slow", _("Slow")
    # Every page still answers 200: only a real purchase (a transaction monitor) notices.
    PAYMENT = "payment", _("Payment broken")
    # A slow, heavy hero image: the pages answer quickly, a speed budget (LCP) breaks.
    HEAVY = "heavy", _("Heavy hero image")


def demo_port() -> int:
    return int(settings.SITECARE_DEMO_PORT)


def slow_seconds() -> float:
    """How long a page of the slow shop takes (longer than any demo monitor's timeout)."""
    return float(settings.SITECARE_DEMO_SLOW_SECONDS)


def heavy_seconds() -> float:
    """How long the heavy hero image takes to arrive (well past an LCP budget of 2.5 s)."""
    return float(settings.SITECARE_DEMO_HEAVY_SECONDS)


def shop_url(path: str = "/") -> str:
    return f"http://127.0.0.1:{demo_port()}{path}"


def state_path() -> Path:
    # Read at call time: tests and ``SITECARE_VAR_DIR`` point it elsewhere.
    return Path(settings.VAR_DIR) / STATE_FILE


def get_demo_mode() -> DemoMode:
    """The current mode; a missing or unreadable file means the shop works."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
        return DemoMode(data["mode"])
    except (OSError, ValueError, KeyError, TypeError):
        return DemoMode.OK


def set_demo_mode(mode: str) -> DemoMode:
    """Store a new mode atomically and return it.

    1. Refuse an unknown mode (ValueError) before touching the file.
    2. Write a temporary file beside the state file, then rename it over the state file:
       a shop reading concurrently sees the old mode or the new one, never half a file.
    """
    value = DemoMode(mode)
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".demo-site.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"mode": value.value, "changed_at": timezone.now().isoformat()}, handle)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return value
