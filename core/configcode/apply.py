"""Applying a configuration document: validate it whole, then diff and write in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from core.configcode.errors import ConfigError, ConfigIssue
from core.configcode.loader import MAX_DOCUMENT_CHARS
from core.configcode.plan import reconcile
from core.configcode.report import ApplyReport
from core.configcode.validate import validate_text


def apply_config(
    text: str,
    *,
    source: str = "<string>",
    dry_run: bool = False,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ApplyReport:
    """Apply a YAML document; return the report of changes, or raise ``ConfigError``.

    1. Parse, substitute ``${ENV}`` (from ``environ``, default ``os.environ``) and validate the
       whole document; any issue raises ``ConfigError`` listing them all, before any write.
    2. In one transaction, diff against the database and write the differences (none in a dry
       run, which also rolls its transaction back so nothing can slip through).
    """
    config = validate_text(text, source=source, environ=environ)
    report = ApplyReport(
        agency=config.document.agency.slug, source=source, dry_run=dry_run, prune=prune
    )
    with transaction.atomic():
        reconcile(config, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def apply_file(
    path: str | Path,
    *,
    dry_run: bool = False,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ApplyReport:
    """Apply the YAML file at ``path`` (see :func:`apply_config`)."""
    source = str(path)
    try:
        with Path(path).open(encoding="utf-8") as file:
            text = read_document(file, source)
    except OSError as exc:
        raise _unreadable(exc, source) from exc
    return apply_config(text, source=source, dry_run=dry_run, prune=prune, environ=environ)


def read_document(stream: TextIO, source: str) -> str:
    """The document's text from a file or standard input, never more than the size limit.

    One character past ``MAX_DOCUMENT_CHARS`` is enough for the parser to refuse a huge
    document with its message, so an endless pipe costs no more than a file at the limit.
    """
    try:
        return stream.read(MAX_DOCUMENT_CHARS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(exc, source) from exc


def _unreadable(exc: Exception, source: str) -> ConfigError:
    message = _("cannot read the file: %(error)s") % {"error": exc}
    return ConfigError([ConfigIssue((), message)], source)
