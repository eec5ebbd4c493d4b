"""``sitecare setup [--demo]``: prepare the database, static files, the agency and an admin.

Safe to run before every start: later runs migrate what is new and leave the agency and the
admin's password alone.
"""

from __future__ import annotations

import os
import secrets
from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.configcode import ConfigError, apply_file
from sitecare.lib.env import env_str
from sitecare.lib.filemodes import secure_store, sqlite_path
from sla.examples import install_example_plans
from tenancy.models import Membership, Organization, Role

Say = Callable[[str], None]
DEMO_CONFIG = Path(settings.BASE_DIR) / "examples" / "demo.yaml"
DEMO_AGENCY_SLUG = "demo"
DEFAULT_AGENCY_NAME = "My agency"
DEFAULT_ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = _(
        "Migrate the database, collect static files and, on the first run, create the agency "
        "and an admin user. With --demo, load the demo configuration (examples/demo.yaml)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help=_("create the demo agency, client and monitors of the local demo shop"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Prepare everything sitecare needs to start.

        1. Make the var directory and the database private to this user (0700/0600), then
           migrate the database and collect static files (quiet unless -v 2).
        2. With --demo, apply the demo configuration (idempotent: later runs change nothing
           unless the demo's environment variables changed); otherwise create the agency
           when there is none.
        3. Create the admin user once and make it the agency's owner.
        """
        quiet = max(options["verbosity"] - 1, 0)
        secure_files(self.stdout.write)
        call_command("migrate", interactive=False, verbosity=quiet)
        call_command("collectstatic", interactive=False, verbosity=quiet)
        self.stdout.write(_("Database and static files are ready."))
        agency = self._demo_agency() if options["demo"] else ensure_agency(self.stdout.write)
        ensure_admin(agency, self.stdout.write)

    def _demo_agency(self) -> Organization:
        try:
            report = apply_file(DEMO_CONFIG)
        except ConfigError as exc:
            raise CommandError("\n".join(exc.messages())) from exc
        self.stdout.write(_("Demo configuration: %(summary)s") % {"summary": report.summary()})
        return Organization.objects.get(slug=DEMO_AGENCY_SLUG)


def secure_files(say: Say) -> None:
    """Tighten the store's file modes (installs made before 0700/0600) and say what changed:
    the var directory, the keys generated in it, secrets given as ``SITECARE_*_FILE`` that
    lie inside it, and the SQLite database."""
    var_dir = Path(settings.VAR_DIR)
    changed = secure_store(
        var_dir, sqlite_path(settings.DATABASES["default"]), secret_files_in(var_dir)
    )
    if changed:
        paths = ", ".join(str(path) for path in changed)
        say(_("Made private to this user (mode 0700/0600): %(paths)s") % {"paths": paths})


def secret_files_in(var_dir: Path) -> list[Path]:
    """The files named by ``SITECARE_*_FILE`` variables that lie inside the var directory
    (ones elsewhere belong to whoever put them there)."""
    inside = var_dir.resolve()
    found = []
    for name, value in os.environ.items():
        if name.startswith("SITECARE_") and name.endswith("_FILE") and value:
            path = Path(value).resolve()
            if path.is_relative_to(inside) and path.is_file():
                found.append(path)
    return found


def ensure_agency(say: Say) -> Organization:
    """The first agency, created from SITECARE_AGENCY_NAME when there is none yet."""
    existing = Organization.objects.order_by("pk").first()
    if existing is not None:
        return existing
    name = env_str("SITECARE_AGENCY_NAME", DEFAULT_AGENCY_NAME).strip() or DEFAULT_AGENCY_NAME
    agency = Organization.objects.create(name=name, slug=slugify(name) or "agency")
    say(_("Agency “%(name)s” created.") % {"name": agency.name})
    # Three care plans to start from (start-up, seasonal shop, enterprise); edit or delete them.
    install_example_plans(agency)
    return agency


@transaction.atomic
def ensure_admin(agency: Organization, say: Say) -> User:
    """Create the admin user once; never touch an existing one's password.

    1. The username comes from SITECARE_ADMIN_USERNAME (default ``admin``).
    2. An existing user is left as it is; only a missing membership is added, so the admin
       always sees an agency.
    3. A new user gets SITECARE_ADMIN_PASSWORD, or a generated password printed this once.
       It is a superuser, so the Django admin works, and the agency's owner.
    """
    username = env_str("SITECARE_ADMIN_USERNAME", DEFAULT_ADMIN_USERNAME).strip()
    if not username:
        raise CommandError(_("SITECARE_ADMIN_USERNAME is empty."))
    user = User.objects.filter(username=username).first()
    if user is not None:
        _ensure_membership(user, agency)
        say(
            _("Admin user “%(username)s” exists; its password is unchanged.")
            % {"username": username}
        )
        return user
    given = env_str("SITECARE_ADMIN_PASSWORD", "")
    password = given or secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=username, email="", password=password)
    _ensure_membership(user, agency)
    if given:
        say(
            _("Admin user “%(username)s” created with the password from SITECARE_ADMIN_PASSWORD.")
            % {"username": username}
        )
    else:
        say(
            _(
                "Admin user created: username “%(username)s”, password “%(password)s”. "
                "It is shown only this once: note it now."
            )
            % {"username": username, "password": password}
        )
    return user


def _ensure_membership(user: User, agency: Organization) -> None:
    Membership.objects.get_or_create(
        user=user, defaults={"organization": agency, "role": Role.OWNER}
    )
