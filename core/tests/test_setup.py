"""``sitecare setup``: database, static files, the agency and the admin, idempotently."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from monitoring.models import Monitor
from sla.models import CarePlan
from tenancy.models import Membership, Organization, Role

ENV_VARS = [
    "SITECARE_ADMIN_USERNAME",
    "SITECARE_ADMIN_PASSWORD",
    "SITECARE_ADMIN_PASSWORD_FILE",
    "SITECARE_AGENCY_NAME",
    "SITECARE_DEMO_ALERT_URL",
    "SITECARE_DEMO_INTERVAL",
    "SITECARE_DEMO_TIMEOUT",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, settings, tmp_path):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SITECARE_DEMO_PORT", "18123")
    settings.STATIC_ROOT = tmp_path / "static"
    return tmp_path


def setup(*args: str) -> str:
    out = StringIO()
    call_command("setup", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"password “([^”]+)”", output)
    assert match, output
    return match.group(1)


@pytest.mark.django_db
def test_it_creates_an_agency_and_an_admin_with_a_password_printed_once(clean_env):
    first = setup()
    password = printed_password(first)
    admin = User.objects.get(username="admin")
    assert admin.check_password(password)
    assert admin.is_superuser and admin.is_staff
    agency = Organization.objects.get()
    assert agency.name == "My agency"
    assert Membership.objects.get(user=admin).role == Role.OWNER
    assert Membership.objects.get(user=admin).organization == agency
    assert (clean_env / "static" / "css" / "sitecare.css").exists()
    assert sorted(CarePlan.objects.filter(organization=agency).values_list("slug", flat=True)) == [
        "enterprise",
        "seasonal-shop",
        "startup",
    ]

    second = setup()
    assert password not in second
    assert "exists" in second
    admin.refresh_from_db()
    assert admin.check_password(password)
    assert Organization.objects.count() == 1
    assert User.objects.count() == 1
    assert CarePlan.objects.filter(organization=agency).count() == 3


@pytest.mark.django_db
def test_it_takes_the_admin_credentials_from_the_environment(monkeypatch):
    monkeypatch.setenv("SITECARE_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("SITECARE_ADMIN_PASSWORD", "from-the-env-0042")
    output = setup()
    assert "from-the-env-0042" not in output
    boss = User.objects.get(username="boss")
    assert boss.check_password("from-the-env-0042")
    assert not User.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_it_never_resets_the_admin_password(monkeypatch):
    monkeypatch.setenv("SITECARE_ADMIN_PASSWORD", "first-password-0001")
    setup()
    monkeypatch.setenv("SITECARE_ADMIN_PASSWORD", "second-password-0002")
    assert "exists" in setup()
    assert User.objects.get(username="admin").check_password("first-password-0001")


@pytest.mark.django_db
def test_it_names_the_agency_from_the_environment(monkeypatch):
    monkeypatch.setenv("SITECARE_AGENCY_NAME", "Acme Web Care")
    setup()
    agency = Organization.objects.get()
    assert (agency.name, agency.slug) == ("Acme Web Care", "acme-web-care")


@pytest.mark.django_db
def test_it_makes_an_existing_user_without_a_membership_the_owner():
    agency = Organization.objects.create(name="Existing", slug="existing")
    User.objects.create_superuser(username="admin", email="", password="kept-password-77")
    assert "exists" in setup()
    membership = Membership.objects.get(user__username="admin")
    assert (membership.organization, membership.role) == (agency, Role.OWNER)
    assert User.objects.get(username="admin").check_password("kept-password-77")


@pytest.mark.django_db
def test_it_loads_the_demo_configuration_with_demo():
    first = setup("--demo")
    demo = Organization.objects.get(slug="demo")
    monitors = Monitor.objects.filter(site__client__organization=demo)
    assert sorted(m.name for m in monitors) == [
        "Checkout",
        "Health",
        "Home",
        "Home page speed",
        "Product page",
        "Purchase",
    ]
    assert all(m.url.startswith("http://127.0.0.1:18123/") for m in monitors)
    assert "127.0.0.0/8" in demo.ssrf_allowlist
    assert Membership.objects.get(user__username="admin").organization == demo
    printed_password(first)

    second = setup("--demo")
    assert "exists" in second
    assert Monitor.objects.count() == 6
    assert Organization.objects.count() == 1
