"""What the engine hands a check kind: a monitor's settings, read from the database once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitoring.logic import Outcome
from sitecare.lib.http import OutboundClient
from sitecare.lib.netpolicy import IPNetwork


@dataclass(frozen=True, eq=True)
class CheckTarget:
    """A monitor as the engine sees it: plain data, safe to use on the event loop."""

    monitor_id: int
    kind: str
    url: str
    config: Mapping[str, Any]
    interval_s: float
    timeout_s: float
    allowlist: tuple[IPNetwork, ...] = ()
    # Confirmation: consecutive results a flip needs, and the faster pace that gathers them.
    confirm_down: int = 3
    confirm_up: int = 2
    recheck_s: float = 10.0


# A check kind's run function: one check of one target, never raising for the site's faults.
Runner = Callable[[CheckTarget, OutboundClient], Awaitable[Outcome]]
