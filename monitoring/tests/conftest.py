"""Fixtures of the monitoring tests (requested by name, but for the ping gate)."""

from __future__ import annotations

import pytest

from monitoring import views
from monitoring.tests.loopback import NetLog, install_tripwire


@pytest.fixture
def netlog(monkeypatch: pytest.MonkeyPatch) -> NetLog:
    """Keep the test on loopback and record its connects, guard decisions and lookups."""
    return install_tripwire(monkeypatch)


@pytest.fixture(autouse=True)
def _ping_busy_mark_cleared() -> None:
    """A test's refused ping must not make the next test's pings skip the database."""
    views.GATE.reset()
