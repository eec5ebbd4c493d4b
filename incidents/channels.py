"""Alert channel URLs: validation that never echoes a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import apprise
from django.utils.translation import gettext as _


@contextmanager
def apprise_quiet() -> Iterator[None]:
    """Silence Apprise's log while parsing: it logs rejected URLs with their tokens."""
    log = logging.getLogger("apprise")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def validate_channel_url(value: str) -> str:
    """Return the stripped Apprise URL, or raise ValueError (the message omits the URL)."""
    url = value.strip()
    with apprise_quiet():
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise ValueError(
            _("not a valid Apprise URL (unknown scheme, or a required part is missing)")
        )
    return url
