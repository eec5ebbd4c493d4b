"""The ``sitecare`` console script: Django's management commands plus sitecare's own."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitecare.settings")
    execute_from_command_line(["sitecare", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
