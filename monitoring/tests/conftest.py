"""Fixtures of the monitoring tests (requested by name, none is automatic)."""

from __future__ import annotations

import pytest

from monitoring.tests.loopback import NetLog, install_tripwire


@pytest.fixture
def netlog(monkeypatch: pytest.MonkeyPatch) -> NetLog:
    """Keep the test on loopback and record its connects, guard decisions and lookups."""
    return install_tripwire(monkeypatch)
