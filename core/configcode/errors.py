"""Problems found in a configuration file, each with its YAML path and, when known, its line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import ValidationError

from sitecare.lib.validation_messages import error_message

# A position in the document: mapping keys and list indexes, e.g. ("clients", 0, "slug").
Loc = tuple[str | int, ...]
# Where each path starts in the file: 1-based (line, column).
Marks = Mapping[Loc, tuple[int, int]]


def format_path(loc: Loc) -> str:
    """``("clients", 0, "sites", 1, "url")`` as ``clients[0].sites[1].url``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class ConfigIssue:
    """One thing wrong with the file: where (path, line) and what."""

    loc: Loc
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def path(self) -> str:
        return format_path(self.loc)

    def render(self, source: str) -> str:
        where = source if self.line is None else f"{source}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.loc else f"{where}: {self.message}"


class ConfigError(Exception):
    """The file was rejected; ``issues`` lists every problem found, nothing was written."""

    def __init__(self, issues: Iterable[ConfigIssue], source: str = "<string>") -> None:
        self.issues = list(issues)
        self.source = source
        super().__init__(self.render())

    def messages(self) -> list[str]:
        return [issue.render(self.source) for issue in self.issues]

    def render(self) -> str:
        count = len(self.issues)
        head = ngettext(
            "%(source)s: %(count)d error, nothing was changed:",
            "%(source)s: %(count)d errors, nothing was changed:",
            count,
        ) % {"source": self.source, "count": count}
        return "\n".join([head, *self.messages()])


def locate(issues: Iterable[ConfigIssue], marks: Marks) -> list[ConfigIssue]:
    """Attach to each issue the line of its path, or of the nearest enclosing path."""
    located = []
    for issue in issues:
        loc = issue.loc
        while loc and loc not in marks:
            loc = loc[:-1]
        if loc in marks:
            line, column = marks[loc]
            issue = replace(issue, line=line, column=column)
        located.append(issue)
    return located


def _pydantic_message(error: Mapping[str, Any], known_fields: Iterable[str]) -> str:
    """Pydantic's message, made plainer for the errors people make most in YAML."""
    kind = error["type"]
    if kind == "extra_forbidden":
        field = str(error["loc"][-1]) if error["loc"] else ""
        close = difflib.get_close_matches(field, list(known_fields), n=1)
        if close:
            return _("unknown field (did you mean %(field)s?)") % {"field": close[0]}
        return _("unknown field")
    # The one wording of forms, the API and config-as-code, in the reader's language.
    return error_message(error)


def issues_from_pydantic(
    exc: ValidationError, prefix: Loc = (), known_fields: Iterable[str] = ()
) -> list[ConfigIssue]:
    """Each pydantic error as an issue whose path starts at ``prefix``."""
    known = list(known_fields)
    return [
        ConfigIssue(loc=(*prefix, *err["loc"]), message=_pydantic_message(err, known))
        for err in exc.errors(include_url=False)
    ]
