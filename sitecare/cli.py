"""The ``sitecare`` console script: Django's management commands plus sitecare's own."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line

from sitecare.lib.filemodes import PRIVATE_UMASK


def main(argv: list[str] | None = None) -> None:
    # Files sitecare and its children create (the database, its WAL, keys) are theirs alone.
    os.umask(PRIVATE_UMASK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitecare.settings")
    execute_from_command_line(["sitecare", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
