"""Shared fixtures: the personas every permission test uses, and a tenant's objects.

- ``owner``: the agency owner; ``engineer``: an agency engineer;
- ``client_a_user``: a user of client A; ``client_b_user``: a user of client B, who must see
  nothing of client A.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from incidents.models import Channel
from incidents.tests.tripwire import SocketLog, install_delivery_tripwire
from monitoring.models import CheckKind, Monitor
from sitecare.tests.browser import launched_chromium
from sitecare.tests.sqlite_files import migrate
from sites.models import Site
from tenancy.models import Client, Membership, Organization, Role


@dataclass
class World:
    agency: Organization
    client_a: Client
    client_b: Client
    site_a: Site
    site_b: Site
    monitor_a: Monitor
    monitor_b: Monitor
    owner: User
    engineer: User
    client_a_user: User
    client_b_user: User


def make_user(username: str, org: Organization, role: str, client: Client | None = None) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-battery-9")
    Membership.objects.create(user=user, organization=org, role=role, client=client)
    return user


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path: Path) -> None:
    """Tests create many users (the production hasher is deliberately slow) and engines."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Engines started by tests serve no metrics port unless a test asks for one.
    settings.SITECARE_ENGINE_METRICS_PORT = 0
    # Screenshots and traces of a test's checks stay with the test; retention's sweep of
    # files no row names never walks the developer's own var/artifacts.
    settings.SITECARE_ARTIFACT_DIR = tmp_path / "artifacts"


@pytest.fixture
def world(db) -> World:
    agency = Organization.objects.create(name="Agency", slug="agency")
    client_a = Client.objects.create(organization=agency, name="Client A", slug="client-a")
    client_b = Client.objects.create(organization=agency, name="Client B", slug="client-b")
    site_a = Site.objects.create(
        client=client_a, name="Shop A", slug="shop-a", url="https://a.example"
    )
    site_b = Site.objects.create(
        client=client_b, name="Shop B", slug="shop-b", url="https://b.example"
    )
    monitor_a = Monitor.objects.create(
        site=site_a, name="Home", kind=CheckKind.HTTP, url="https://a.example/"
    )
    monitor_b = Monitor.objects.create(
        site=site_b, name="Home", kind=CheckKind.HTTP, url="https://b.example/"
    )
    Channel.objects.create(
        organization=agency, client=client_a, name="A hook", url="json://127.0.0.1:9/"
    )
    Channel.objects.create(
        organization=agency, client=client_b, name="B hook", url="json://127.0.0.1:9/"
    )
    return World(
        agency=agency,
        client_a=client_a,
        client_b=client_b,
        site_a=site_a,
        site_b=site_b,
        monitor_a=monitor_a,
        monitor_b=monitor_b,
        owner=make_user("owner", agency, Role.OWNER),
        engineer=make_user("engineer", agency, Role.ENGINEER),
        client_a_user=make_user("alice", agency, Role.CLIENT, client_a),
        client_b_user=make_user("bob", agency, Role.CLIENT, client_b),
    )


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file for the session; tests that run sitecare in other processes
    work on copies of it (``sitecare.tests.sqlite_files``)."""
    return migrate(tmp_path_factory.mktemp("migrated-sqlite"))


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for one test (``sitecare.tests.browser``; mark the module
    ``needs_chromium``). Playwright's ``Browser``: ``new_context()``, then ``new_page()``."""
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(autouse=True)
def _deliveries_stay_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> SocketLog:
    """Every test delivers alerts under a tripwire: nothing a delivery connects to, sends to
    or looks up may leave loopback (a channel of ``json://x.example/`` would otherwise ask a
    real DNS server), even if the guard itself were broken."""
    return install_delivery_tripwire(monkeypatch)


@pytest.fixture(autouse=True)
def _each_test_starts_in_the_default_language() -> Iterator[None]:
    """A request through Django's test client leaves its language active in the thread
    (LocaleMiddleware activates, nothing deactivates): without this, a test that asked for a
    Polish page makes the next one, in whatever order pytest-django runs them, speak Polish."""
    yield
    translation.deactivate()
