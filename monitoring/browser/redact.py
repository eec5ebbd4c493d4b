"""Keeping a transaction's secrets out of what it leaves behind: texts, results and the trace.

A secret reaches the page as typed text, and from there a form post, a URL or an error message
can carry it anywhere, so every text a run keeps is scrubbed of each secret's value (as typed,
URL-encoded, JSON- and HTML-escaped).

Playwright's trace records the value of every ``fill`` (the action's parameters), each DOM
snapshot's input values, the request bodies (a form post) and screencast frames in which the
typed digits can be read. ``scrub_trace`` rewrites ``trace.zip``: its text entries scrubbed,
and, when a secret was typed, its screencast frames dropped (pixels cannot be scrubbed; the DOM
snapshots still show each step in ``playwright show-trace``).
"""

from __future__ import annotations

import html
import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Too short to mask without making every result unreadable (and not worth hiding).
MIN_SECRET_LENGTH = 3
SCREENCAST = "screencast/"
# Trace entries that are images: left as they are (a screencast frame is dropped instead).
IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".webp", ".gif")


def _forms(secret: str) -> set[str]:
    """The ways a secret's value can be written down in a page, a request or a trace."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), html.escape(secret)}
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(json.dumps(secret)[1:-1])[1:-1])  # a JSON string inside JSON
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces each secret's value, in any of its forms, with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            forms |= _forms(secret)
        # Longest first: a secret that contains another is masked whole.
        self.forms = sorted(forms, key=len, reverse=True)
        self._bytes = [(form.encode(), MASK.encode()) for form in self.forms]

    def __bool__(self) -> bool:
        return bool(self.forms)

    def text(self, value: str) -> str:
        for form in self.forms:
            value = value.replace(form, MASK)
        return value

    def data(self, value: bytes) -> bytes:
        for form, mask in self._bytes:
            value = value.replace(form, mask)
        return value

    def deep(self, value: Any) -> Any:
        """A JSON-like value with every string scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(item) for item in value]
        if isinstance(value, dict):
            return {key: self.deep(item) for key, item in value.items()}
        return value


def scrub_trace(path: Path, redactor: Redactor, *, drop_screencast: bool) -> None:
    """Rewrite a ``trace.zip`` in place without the secrets (see the module's docstring).

    1. Copy each entry to a new zip beside it: text entries scrubbed, images kept, screencast
       frames and the trace events that point at them left out when ``drop_screencast``.
    2. Replace the original with the copy (same permissions).
    """
    if not redactor and not drop_screencast:
        return
    scrubbed = path.with_suffix(".scrubbing")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(scrubbed, "w", compression=zipfile.ZIP_DEFLATED) as copy,
    ):
        for entry in source.infolist():
            name = entry.filename
            if drop_screencast and name.startswith(SCREENCAST):
                continue
            data = source.read(entry)
            if not name.lower().endswith(IMAGE_SUFFIXES):
                data = redactor.data(data)
                if drop_screencast and name.endswith(".trace"):
                    data = _without_frames(data)
            copy.writestr(name, data)
    os.chmod(scrubbed, path.stat().st_mode & 0o777)
    os.replace(scrubbed, path)


def _without_frames(data: bytes) -> bytes:
    lines = data.split(b"\n")
    return b"\n".join(line for line in lines if b'"screencast-frame"' not in line)
