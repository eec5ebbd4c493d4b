"""Keyed digests of values kept in the database, so that a dump alone does not let anyone
test guesses against them offline.

The key is derived from ``SITECARE_ENCRYPTION_KEY``, which lives outside the database (in
``var/encryption_key`` or the environment) and never changes for the life of an install (the
secrets encrypted with it would be lost), unlike the secret key, which an operator may
rotate. Each use has its own purpose string, so a digest for one use means nothing in
another.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from the encryption key and ``purpose``
    (64 hex digits)."""
    return salted_hmac(
        f"sitecare.{purpose}", value, secret=settings.SITECARE_ENCRYPTION_KEY, algorithm="sha256"
    ).hexdigest()
