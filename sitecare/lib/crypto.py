"""Encryption at rest for secrets stored in the database (channel URLs, monitor options…), and
keyed digests of values that are only compared (recovery codes, password marks).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256). Both keys are derived from
``settings.SITECARE_ENCRYPTION_KEY``, which lives outside the database (``var/encryption_key``
or the environment) and never changes for the life of an install (the secrets encrypted with
it would be lost), unlike the secret key, which an operator may rotate. So a database dump
alone reveals no secret, and gives nothing to test guesses against offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

PREFIX = "enc1:"


@cache
def _fernet(key: str) -> Fernet:
    # Imported at first use: the models that hold secrets import this module at every start
    # of every command, most of which never encrypt anything.
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(("sitecare-at-rest:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from the encryption key and ``purpose``
    (64 hex digits); each use has its own purpose, so a digest for one means nothing in
    another."""
    return salted_hmac(
        f"sitecare.{purpose}", value, secret=settings.SITECARE_ENCRYPTION_KEY, algorithm="sha256"
    ).hexdigest()


def _invalid_token() -> type[Exception]:
    from cryptography.fernet import InvalidToken  # see _fernet

    return InvalidToken


def encrypt(plaintext: str) -> str:
    token = _fernet(settings.SITECARE_ENCRYPTION_KEY).encrypt(plaintext.encode())
    return PREFIX + token.decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("value is not an encrypted sitecare secret")
    try:
        fernet = _fernet(settings.SITECARE_ENCRYPTION_KEY)
        raw = fernet.decrypt(stored[len(PREFIX) :].encode())
    except _invalid_token() as exc:
        raise ValueError("secret cannot be decrypted: the encryption key has changed") from exc
    return raw.decode()


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted in the database and plain in Python."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedJSONField(models.Field):
    """A JSON value (a monitor's options) encrypted as a whole in a text column.

    The column holds ``enc1:…``, never JSON, so nothing can be queried inside it: filter in
    Python. Values are compared in Python, decrypted.
    """

    description = "JSON encrypted at rest"

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return json.loads(decrypt(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False))

    def value_to_string(self, obj: models.Model) -> Any:
        # Like JSONField: serialisers (dumpdata) write the value as JSON, not as a string.
        return self.value_from_object(obj)

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


def redact_url(url: str) -> str:
    """Show a notification URL with its secrets masked: the scheme, and the host if it is one.

    Several services keep a token where the host would be (``tgram://<bot token>/…``,
    ``slack://<token>/…``), so a "host" is shown only when it looks like a host name or an
    IP address (a dotted name or IPv4, a bracketed IPv6, or ``localhost``, with an optional
    numeric port).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split("?", 1)[0]
    name, _colon, port = host.rpartition(":") if not host.endswith("]") else ("", "", "")
    if not name or not port.isdigit():
        name = host
    looks_like_host = name.startswith("[") or "." in name or name == "localhost"
    if not looks_like_host:
        return f"{scheme}://***"
    shown = host if len(host) <= 40 else host[:37] + "..."
    return f"{scheme}://{shown}/***"
