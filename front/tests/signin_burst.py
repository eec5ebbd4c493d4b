"""Run by ``test_signin_burst.py`` in a process of its own: a burst of wrong passwords sent at
the same moment from many threads, against a real SQLite file (the test database in memory
cannot take writes from several threads at once).

``python -m front.tests.signin_burst <sign-in|password-change> <attempts>`` with
``SITECARE_VAR_DIR`` set to an empty directory prints, as JSON, the status of each answer and
the account's failure count afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import django
from django.contrib.auth.hashers import PBKDF2PasswordHasher

PASSWORD = "correct-horse-battery-9"
NEW_PASSWORD = "a-quite-different-one-77"


class SlowHasher(PBKDF2PasswordHasher):
    """Slow enough (tens of milliseconds) that the attempts of a burst overlap, as on a real
    server with its production hasher."""

    algorithm = "pbkdf2_burst"
    iterations = 60_000


def main(mode: str, attempts: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "sitecare.settings"
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from tenancy import throttle
    from tenancy.models import SignInThrottle

    settings.PASSWORD_HASHERS = ["front.tests.signin_burst.SlowHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", "tenancy", verbosity=0)
    call_command("migrate", "sessions", verbosity=0)
    user = User.objects.create_user("anna", password=PASSWORD)
    start = threading.Barrier(attempts)

    def attempt(number: int) -> int:
        browser = Client(REMOTE_ADDR=f"192.0.2.{number + 1}")
        try:
            if mode == "sign-in":
                url, data = "/login/", {"username": "anna", "password": f"guess-{number}"}
            else:
                browser.force_login(user)
                url = "/profile/password/"
                data = {
                    "old_password": f"guess-{number}",
                    "new_password1": NEW_PASSWORD,
                    "new_password2": NEW_PASSWORD,
                }
            start.wait(timeout=60)
            return browser.post(url, data).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(attempts) as pool:
        answers = list(pool.map(attempt, range(attempts)))
    row = SignInThrottle.objects.get(key=throttle.account_key("anna").key)
    print(json.dumps({"answers": answers, "failures": row.failures}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
