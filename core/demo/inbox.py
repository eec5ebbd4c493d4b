"""The demo inbox: alert webhooks (Apprise ``json://`` payloads) received by the demo shop.

Kept in memory: the inbox only shows a newcomer, without internet, that alerts arrive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

INBOX_SIZE = 200
DEDUP_HEADER = "X-Sitecare-Dedup-Key"
# Apprise's notify types, as the badge each one gets on the inbox page.
_BADGES = {"failure": "down", "warning": "down", "success": "up"}


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert as the inbox received it."""

    received_at: datetime
    title: str
    message: str
    kind: str
    dedup_key: str

    @property
    def badge(self) -> str:
        return _BADGES.get(self.kind, "info")


class Inbox:
    """The last alerts received, newest first."""

    def __init__(self, size: int = INBOX_SIZE) -> None:
        self._alerts: deque[ReceivedAlert] = deque(maxlen=size)

    def __iter__(self) -> Iterator[ReceivedAlert]:
        return iter(self._alerts)

    def __len__(self) -> int:
        return len(self._alerts)

    def add(self, alert: ReceivedAlert) -> None:
        self._alerts.appendleft(alert)


def alert_from_payload(payload: Any, dedup_key: str = "") -> ReceivedAlert:
    """Read an Apprise JSON payload (``title``, ``message``, ``type``); ValueError if not one."""
    if not isinstance(payload, dict):
        raise ValueError("payload is not a JSON object")
    return ReceivedAlert(
        received_at=timezone.now(),
        title=str(payload.get("title") or ""),
        message=str(payload.get("message") or payload.get("body") or ""),
        kind=str(payload.get("type") or "info"),
        dedup_key=dedup_key,
    )
