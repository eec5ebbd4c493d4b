"""Reading the YAML text: safe parsing with line numbers, then ``${ENV}`` substitution.

Limits keep a small hostile file from costing minutes or a traceback: the text may hold at
most ``MAX_DOCUMENT_CHARS`` characters, nest at most ``MAX_DEPTH`` levels, and expand through
aliases to at most ``MAX_VALUES`` values; a number may be at most ``MAX_NUMBER_CHARS``
characters long, and YAML 1.1's base-60 numbers (``1:30:00``, which PyYAML computes with
ever larger integers) are read as text. Each is an error naming the limit and the line, and a
value Python cannot convert is one too, never a traceback.

Substitution happens on parsed values (never on the raw text), so an environment variable can
never inject YAML structure. Only mapping values and list items are substituted, not keys.

Syntax, in any string value:
- ``${NAME}``: the variable's value; an error naming the YAML path when it is not set.
- ``${NAME:-default}``: the default when the variable is unset or empty; the default may hold
  further references (``${A:-json://127.0.0.1:${PORT:-8001}/}``) and balanced braces.
- ``$${``: a literal ``${`` (how ``sitecare export`` writes text that contains ``${``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from django.utils.translation import gettext as _
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.configcode.errors import ConfigIssue, Loc

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Server secrets a configuration file may not read: substituted into a monitor URL they would
# leave the machine. (The file's author is trusted with their own channel tokens, not these.)
DENIED_VARIABLES = frozenset(
    {
        "SITECARE_SECRET_KEY",
        "SITECARE_ENCRYPTION_KEY",
        "SITECARE_ADMIN_PASSWORD",
        "SITECARE_DATABASE_URL",
        "SITECARE_EMAIL_USER",
        "SITECARE_EMAIL_PASSWORD",
    }
)
# A sitecare setting named like a secret is denied too (one added later is covered at once),
# except the placeholders ``sitecare export`` writes for the file's own secrets.
_SECRET_SETTING = re.compile(r"SITECARE_\w*(PASSWORD|SECRET|KEY|TOKEN|CREDENTIALS?)(_FILE)?")
_EXPORT_PLACEHOLDERS = ("SITECARE_CHANNEL_", "SITECARE_MONITOR_")
# Aliases can make a small file expand into a huge tree; real configurations stay far below.
MAX_VALUES = 200_000
# An agency with hundreds of clients writes a few hundred kilobytes.
MAX_DOCUMENT_CHARS = 4_000_000
# Configuration nests about eight levels; PyYAML composes nodes recursively.
MAX_DEPTH = 64
# Far past any id, port or duration; PyYAML converts digits to int with quadratic cost.
MAX_NUMBER_CHARS = 100


@dataclass
class Parsed:
    """The document's data, where each path starts in the file, and problems found."""

    data: Any = None
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)


def _syntax_issue(exc: yaml.YAMLError) -> ConfigIssue:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    message = _("YAML syntax error: %(problem)s") % {"problem": problem}
    if mark is None:
        return ConfigIssue(loc=(), message=message)
    return ConfigIssue(loc=(), message=message, line=mark.line + 1, column=mark.column + 1)


class _LimitExceeded(Exception):
    """The document goes past one of the limits; ``issue`` says which and where."""

    def __init__(self, issue: ConfigIssue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def _limit_issue(message: str, mark: Mark | None) -> _LimitExceeded:
    if mark is None:
        return _LimitExceeded(ConfigIssue((), message))
    return _LimitExceeded(ConfigIssue((), message, mark.line + 1, mark.column + 1))


class _SafeLoader(yaml.SafeLoader):
    """The safe loader, with limits on nesting and numbers; an impossible date stays text.

    PyYAML raises a bare ``ValueError`` for a date such as ``2026-13-31``, which names no
    line; as text it reaches the field's own validation, which reports it at its path.
    Nesting is counted while composing, before the recursion could exhaust Python's stack.
    Numbers are resolved without YAML 1.1's base-60 form (see :func:`_resolvers`) and
    refused past ``MAX_NUMBER_CHARS``; any other value Python cannot convert is an error at
    its line.
    """

    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                message = _("the document nests deeper than %(limit)d levels") % {
                    "limit": MAX_DEPTH
                }
                raise _limit_issue(message, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError):  # a scalar Python cannot hold (the YAML is valid)
            kind = str(node.tag).rpartition(":")[2]
            message = _("this value cannot be read as %(kind)s") % {"kind": kind}
            raise _limit_issue(message, node.start_mark) from None

    def construct_yaml_timestamp(self, node: ScalarNode) -> date | str:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        self._check_number(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        self._check_number(node)
        return super().construct_yaml_float(node)

    def _check_number(self, node: ScalarNode) -> None:
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            message = _("a number may be at most %(limit)d characters long") % {
                "limit": MAX_NUMBER_CHARS
            }
            raise _limit_issue(message, node.start_mark)


def _resolvers(
    inherited: dict[str, list[tuple[str, re.Pattern[str]]]],
) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """The safe loader's implicit resolvers, with ints and floats read without base 60.

    YAML 1.1 reads ``1:30`` as 90: PyYAML computes such a number digit group by digit group
    with ever larger integers (quadratic time: minutes for a file at the size limit), and
    nobody writes configuration in base 60. Such text stays a string.
    """
    numbers = {
        "tag:yaml.org,2002:int": _INT_WITHOUT_BASE_60,
        "tag:yaml.org,2002:float": _FLOAT_WITHOUT_BASE_60,
    }
    return {
        first: [(tag, numbers.get(tag, pattern)) for tag, pattern in entries]
        for first, entries in inherited.items()
    }


_INT_WITHOUT_BASE_60 = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT_WITHOUT_BASE_60 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_SafeLoader.yaml_implicit_resolvers = _resolvers(yaml.SafeLoader.yaml_implicit_resolvers)
_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _SafeLoader.construct_yaml_timestamp)
_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)
_SafeLoader.add_constructor("tag:yaml.org,2002:float", _SafeLoader.construct_yaml_float)


def parse_yaml(text: str) -> Parsed:
    """Parse one YAML document safely, remembering the line and column of every path.

    1. Refuse a text longer than ``MAX_DOCUMENT_CHARS`` before reading it.
    2. Compose the node tree (at most ``MAX_DEPTH`` levels deep).
    3. Index every path's line, counting the values aliases expand to (at most
       ``MAX_VALUES``); only then build the data.
    """
    parsed = Parsed()
    if len(text) > MAX_DOCUMENT_CHARS:
        line = text.count("\n", 0, MAX_DOCUMENT_CHARS) + 1
        message = _("the document is longer than %(limit)d characters") % {
            "limit": MAX_DOCUMENT_CHARS
        }
        parsed.issues.append(ConfigIssue((), message, line, 1))
        return parsed
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _Indexer(parsed).index(node, (), ())
            if not parsed.issues:
                parsed.data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        parsed.issues.append(_syntax_issue(exc))
    except _LimitExceeded as exc:
        parsed.issues.append(exc.issue)
    finally:
        loader.dispose()
    return parsed


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


@dataclass
class _Indexer:
    """Indexes a node tree once, knowing how many values each node expands to."""

    parsed: Parsed
    # Values each node expands to (aliases included), by node identity: a node reached again
    # through an alias is counted from here, never walked again.
    sizes: dict[int, int] = field(default_factory=dict)

    def index(self, node: Node, loc: Loc, ancestors: tuple[int, ...]) -> int:
        """Record where each path starts; return how many values the node expands to.

        1. A node already indexed is an alias of a node seen before: its paths are not
           indexed again (an error inside it is located at the alias), so shared anchors cost
           nothing; only its size counts.
        2. A node that contains itself cannot be configuration: report it.
        3. Mapping entries are located at their key, list items at the item; duplicate keys
           are reported.
        4. When the values counted so far pass ``MAX_VALUES``, stop with an error at the
           mapping or list whose items passed it.
        """
        if id(node) in ancestors:
            issue = ConfigIssue(loc, _("a YAML alias refers to itself"), *_mark(node))
            self.parsed.issues.append(issue)
            return 0
        if id(node) in self.sizes:
            return self.sizes[id(node)]
        inner = (*ancestors, id(node))
        size = 1
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.parsed.marks.setdefault((*loc, index), _mark(item))
                size = self._add(size, self.index(item, (*loc, index), inner), node)
        elif isinstance(node, MappingNode):
            seen: dict[str, tuple[int, int]] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else str(key_node.tag)
                self._check_duplicate(key, key_node, seen, loc)
                self.parsed.marks.setdefault((*loc, key), _mark(key_node))
                size = self._add(size, self.index(value_node, (*loc, key), inner), node)
        self.sizes[id(node)] = size
        return size

    def _add(self, size: int, more: int, container: Node) -> int:
        if size + more > MAX_VALUES:
            message = _("YAML aliases expand the document to more than %(limit)d values") % {
                "limit": MAX_VALUES
            }
            raise _limit_issue(message, container.start_mark)
        return size + more

    def _check_duplicate(
        self, key: str, key_node: Node, seen: dict[str, tuple[int, int]], loc: Loc
    ) -> None:
        if key in seen and key != "<<":
            message = _("duplicate key %(key)s (first at line %(line)d)") % {
                "key": key,
                "line": seen[key][0],
            }
            self.parsed.issues.append(ConfigIssue((*loc, key), message, *_mark(key_node)))
        seen.setdefault(key, _mark(key_node))


def is_denied_variable(name: str) -> bool:
    """True for an environment variable a configuration file may not read: a sitecare secret
    (:data:`DENIED_VARIABLES`, their ``_FILE`` forms, any ``SITECARE_`` setting named like a
    secret), but not the ``SITECARE_CHANNEL_``/``SITECARE_MONITOR_`` placeholders of export."""
    if name in DENIED_VARIABLES or name.removesuffix("_FILE") in DENIED_VARIABLES:
        return True
    return bool(_SECRET_SETTING.fullmatch(name)) and not name.startswith(_EXPORT_PLACEHOLDERS)


class _SubstitutionError(ValueError):
    """A malformed ``${`` reference; the message says what is wrong."""


@dataclass
class _Expander:
    """Expands the references of one string, collecting the variables that are not set."""

    environ: Mapping[str, str]
    missing: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)

    def expand(
        self, text: str, start: int = 0, *, nested: bool = False, live: bool = True
    ) -> tuple[str, int]:
        """Expand ``text`` from ``start``; when nested, stop at the unbalanced ``}``.

        1. ``$${`` is a literal ``${``.
        2. ``${`` starts a reference, expanded by :meth:`reference`.
        3. Inside a default, ``{`` and ``}`` pairs are literal text; the first unbalanced
           ``}`` ends the default.
        When not ``live`` (a default that is not used) references are read but not looked up.
        """
        out: list[str] = []
        depth = 0
        i = start
        while i < len(text):
            if text.startswith("$${", i):
                out.append("${")
                i += 3
            elif text.startswith("${", i):
                value, i = self.reference(text, i + 2, live=live)
                out.append(value)
            else:
                char = text[i]
                if nested and char == "}":
                    if depth == 0:
                        return "".join(out), i
                    depth -= 1
                elif nested and char == "{":
                    depth += 1
                out.append(char)
                i += 1
        if nested:
            raise _SubstitutionError(_("a ${ reference is not closed with }"))
        return "".join(out), i

    def reference(self, text: str, start: int, *, live: bool) -> tuple[str, int]:
        """Expand the reference whose name starts at ``start``; return it and the next index."""
        match = _NAME.match(text, start)
        if match is None:
            raise _SubstitutionError(
                _("${ must be followed by a variable name (write $${ for a literal ${)")
            )
        name, i = match.group(), match.end()
        denied = is_denied_variable(name)
        if live and denied:
            self.denied.append(name)
        value = self.environ.get(name) if live and not denied else None
        if text.startswith("}", i):
            if live and value is None and not denied:
                self.missing.append(name)
            return value or "", i + 1
        if text.startswith(":-", i):
            default, end = self.expand(text, i + 2, nested=True, live=live and not value)
            return (value or default), end + 1
        raise _SubstitutionError(_("after ${%(name)s expected } or :-default}") % {"name": name})


def _string_issues(loc: Loc, expander: _Expander) -> list[ConfigIssue]:
    issues = []
    for name in dict.fromkeys(expander.missing):
        message = _(
            "environment variable %(name)s is not set (write ${%(name)s:-default} to give a "
            "default)"
        ) % {"name": name}
        issues.append(ConfigIssue(loc, message))
    for name in dict.fromkeys(expander.denied):
        message = _(
            "environment variable %(name)s is a sitecare server secret and cannot be used in a "
            "configuration file"
        ) % {"name": name}
        issues.append(ConfigIssue(loc, message))
    return issues


@dataclass
class _Substitution:
    environ: Mapping[str, str]
    issues: list[ConfigIssue] = field(default_factory=list)
    failed: list[Loc] = field(default_factory=list)
    count: int = 0

    def value(self, data: Any, loc: Loc) -> Any:
        """A copy of ``data`` with every string value expanded."""
        self.count += 1
        if self.count > MAX_VALUES:
            raise _SubstitutionError(_("the document is too large"))
        if isinstance(data, str):
            return self.string(data, loc)
        if isinstance(data, list):
            return [self.value(item, (*loc, i)) for i, item in enumerate(data)]
        if isinstance(data, dict):
            return {key: self.value(item, (*loc, str(key))) for key, item in data.items()}
        return data

    def string(self, text: str, loc: Loc) -> str:
        if "${" not in text:
            return text
        expander = _Expander(self.environ)
        try:
            result, _end = expander.expand(text)
        except _SubstitutionError as exc:
            self.issues.append(ConfigIssue(loc, str(exc)))
            self.failed.append(loc)
            return text
        problems = _string_issues(loc, expander)
        if problems:
            self.issues.extend(problems)
            self.failed.append(loc)
            return text
        return result


def substitute(data: Any, environ: Mapping[str, str]) -> tuple[Any, list[ConfigIssue], list[Loc]]:
    """Expand ``${…}`` in every string value; return the data, issues and the failed paths.

    A value that could not be expanded is left as written; its path is returned so that the
    validation errors it would cause further on are not reported twice.
    """
    work = _Substitution(environ)
    try:
        result = work.value(data, ())
    except _SubstitutionError as exc:
        return data, [ConfigIssue((), str(exc))], [()]
    return result, work.issues, work.failed


def escape(text: str) -> str:
    """Protect a literal ``${`` from substitution (the inverse of what :func:`substitute` does)."""
    return text.replace("${", "$${")
