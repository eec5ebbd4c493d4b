"""Content change check: alert when a page (or a CSS-selected part of it) changes or loses a text.

The page is fetched through the guarded outbound client under the monitor's allowlist, then
normalized (visible text by default, or markup) and hashed. The engine hands the monitor's
baseline (``monitoring.content``) to the check inside ``target.config`` under
:data:`BASELINE_KEY`, a key no option may take (``Options`` forbids unknown fields), so the
baseline never reaches config as code or exports. With no baseline yet the check succeeds and
says so; the store then keeps that content as the baseline. A different hash later is
``content_changed`` (defacement), with a short diff in the details, until someone accepts the
new content or the page reverts.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import regex
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitoring.checks import http
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import FetchedResponse, FetchError, OutboundClient
from sitecare.lib.messages import deferred as _

# Reserved key of the engine's config mapping that carries the baseline (see the docstring).
BASELINE_KEY = "_content_baseline"
# Elements whose content no visitor reads as text: scripts (nonces, asset hashes), styles,
# inert templates.
INVISIBLE_TAGS = ["script", "style", "template"]
MAX_PATTERNS = 20
# Seconds one ``ignore`` pattern may take on one page before the check gives up on it.
PATTERN_SECONDS = 1.0
MAX_TEXTS = 20
# What is kept of the normalized content (baseline and changed results) and of a diff.
EXCERPT_CHARS = 10_000
DIFF_LINES = 80
DIFF_LINE_CHARS = 300
DIFF_CHARS = 4_000
QUOTE_CHARS = 100
# A tag's start in serialized markup: where "html" content is cut into lines (for the diff).
TAG_START = re.compile(r"(?=<[A-Za-z/!])")

Pattern = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]


def normalize_target(value: str) -> str:
    """A content monitor points at the http(s) URL of the page to watch."""
    return http.normalize_target(value)


def target_host(target: str) -> str | None:
    return http.target_host(target)


class Options(BaseModel):
    """Kind-specific settings of a content change monitor."""

    model_config = ConfigDict(extra="forbid")

    selector: str | None = Field(default=None, min_length=1, max_length=500)
    compare: Literal["text", "html"] = "text"
    ignore: list[Pattern] = Field(
        default_factory=list, description=gettext_noop("regular expressions")
    )
    must_contain: list[Text] = Field(default_factory=list)
    alert_on_change: bool = True

    @field_validator("selector")
    @classmethod
    def _check_selector(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            LexborHTMLParser("<p></p>").css(value)
        except SelectolaxError:
            message = _("%(selector)r is not a valid CSS selector") % {"selector": value}
            raise ValueError(message) from None
        return value.strip()

    @field_validator("ignore", "must_contain", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("ignore")
    @classmethod
    def _compile_patterns(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_PATTERNS:
            raise ValueError(_("at most %(n)d patterns") % {"n": MAX_PATTERNS})
        for number, pattern in enumerate(value, start=1):
            try:
                regex.compile(pattern)
            except regex.error as exc:
                message = _(
                    "pattern %(number)d (%(pattern)r) is not a valid regular expression: %(error)s"
                )
                raise ValueError(
                    message % {"number": number, "pattern": pattern, "error": exc}
                ) from None
        return value

    @field_validator("must_contain")
    @classmethod
    def _few_texts(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_TEXTS:
            raise ValueError(_("at most %(n)d texts") % {"n": MAX_TEXTS})
        return value

    def digest(self, url: str) -> str:
        """What the hash depends on: a baseline of another page or other settings is stale."""
        shaping = {
            "url": url,
            "selector": self.selector,
            "compare": self.compare,
            "ignore": self.ignore,
        }
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Baseline:
    """The accepted content the engine compares against (plain data, no database)."""

    sha256: str
    excerpt: str
    options_digest: str
    learned_at: str = ""

    def as_config(self) -> dict[str, str]:
        return {
            "sha256": self.sha256,
            "excerpt": self.excerpt,
            "options_digest": self.options_digest,
            "learned_at": self.learned_at,
        }

    @classmethod
    def from_config(cls, data: Any) -> Baseline | None:
        """The baseline the engine handed over, or None (none yet, or unreadable)."""
        if not isinstance(data, Mapping):
            return None
        values = {key: data.get(key) for key in ("sha256", "excerpt", "options_digest")}
        if not all(isinstance(value, str) for value in values.values()):
            return None
        return cls(
            sha256=str(values["sha256"]),
            excerpt=str(values["excerpt"]),
            options_digest=str(values["options_digest"]),
            learned_at=str(data.get("learned_at") or ""),
        )


def with_baseline(config: Mapping[str, Any], baseline: Baseline | None) -> dict[str, Any]:
    """A monitor's config for the engine, with its baseline (if any) under the reserved key."""
    result = dict(config)
    if baseline is not None:
        result[BASELINE_KEY] = baseline.as_config()
    return result


class Verdict(StrEnum):
    """How the content compares with the baseline (``details["baseline"]``)."""

    LEARNED = "learned"  # no baseline yet (or a stale one): this content becomes it
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    NOT_LEARNED = "not_learned"  # no baseline, but the check failed: nothing is learned
    UNWATCHED = "unwatched"  # alert_on_change is off: no comparison


@dataclass(frozen=True)
class PageContent:
    """A page read as content: lines for people (and diffs), one hash for machines.

    ``text`` is the visible text (for ``must_contain``); ``compared`` the normalized content
    with the ``ignore`` patterns removed, one line per text node (or tag, for markup).
    """

    text: str
    compared: str
    sha256: str

    def excerpt(self) -> str:
        return bounded_excerpt(self.compared)


def clean_lines(lines: Iterable[str]) -> list[str]:
    """Lines with whitespace runs collapsed, blank ones dropped."""
    cleaned = (" ".join(line.split()) for line in lines)
    return [line for line in cleaned if line]


def bounded_excerpt(content: str) -> str:
    """At most ``EXCERPT_CHARS`` of the content, cut at a line end where there is one."""
    if len(content) <= EXCERPT_CHARS:
        return content
    cut = content.rfind("\n", 0, EXCERPT_CHARS)
    return content[: cut if cut > 0 else EXCERPT_CHARS]


def outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """The matched nodes without those inside another match (so nothing counts twice)."""
    chosen = {node.mem_id for node in nodes}
    result = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in chosen:
            parent = parent.parent
        if parent is None:
            result.append(node)
    return result


def drop_comments(tree: LexborHTMLParser) -> None:
    """Remove comments: invisible, and often carrying build stamps or render times."""
    if tree.root is None:
        return
    comments = [n for n in tree.root.traverse(include_text=True) if n.is_comment_node]
    for comment in comments:
        comment.decompose()


def markup_lines(nodes: list[LexborNode]) -> list[str]:
    """The nodes' serialized markup, cut before each tag (a line per tag, for the diff)."""
    return clean_lines(piece for node in nodes for piece in TAG_START.split(node.html or ""))


def text_lines(nodes: list[LexborNode]) -> list[str]:
    """The nodes' visible text, a line per text node, without script, style or template."""
    lines: list[str] = []
    for node in nodes:
        if node.tag not in INVISIBLE_TAGS:
            node.strip_tags(INVISIBLE_TAGS, recursive=True)
        lines.extend(
            child.text_content or ""
            for child in node.traverse(include_text=True)
            if child.is_text_node
        )
    return clean_lines(lines)


class PatternTooSlow(Exception):
    """An ``ignore`` pattern ran past its time on a page (catastrophic backtracking)."""

    def __init__(self, number: int, pattern: str) -> None:
        super().__init__(pattern)
        self.number = number
        self.pattern = pattern


def without_ignored(content: str, patterns: list[str]) -> str:
    """The content with every match of the ``ignore`` patterns removed, then cleaned again.

    Each pattern gets ``PATTERN_SECONDS`` on the page (the ``regex`` engine can stop a match;
    ``re`` cannot), so a pattern that backtracks without end fails the check instead of
    holding a worker thread for good.
    """
    for number, pattern in enumerate(patterns, start=1):
        try:
            content = regex.sub(pattern, "", content, timeout=PATTERN_SECONDS)
        except TimeoutError:
            raise PatternTooSlow(number, pattern) from None
    return "\n".join(clean_lines(content.split("\n")))


def read_content(html: str, options: Options) -> PageContent | None:
    """Normalize a page under the options; None when the selector matches nothing.

    1. Parse as browsers do (HTML5) and drop comments.
    2. Take the selected fragments (outermost matches, in page order), else the whole page.
    3. Serialize their markup (``compare: html``), then take their visible text.
    4. Remove the ``ignore`` matches from the compared form and hash it with every whitespace
       run as one space (so re-wrapping text or markup changes nothing).
    """
    tree = LexborHTMLParser(html)
    drop_comments(tree)
    if options.selector:
        nodes = outermost(tree.css(options.selector))
        if not nodes:
            return None
    else:
        nodes = [tree.root] if tree.root is not None else []
    markup = markup_lines(nodes) if options.compare == "html" else []
    text = text_lines(nodes)
    compared = without_ignored("\n".join(markup or text), options.ignore)
    digest = hashlib.sha256(" ".join(compared.split()).encode()).hexdigest()
    return PageContent(text="\n".join(text), compared=compared, sha256=digest)


def missing_texts(content: PageContent, texts: list[str]) -> list[str]:
    """The ``must_contain`` texts not in the visible text (whitespace runs count as one)."""
    haystack = " ".join(content.text.split())
    return [text for text in texts if " ".join(text.split()) not in haystack]


def content_diff(before: str, after: str) -> str:
    """A short unified diff of two excerpts: bounded in lines, line length and size."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "baseline", "now", n=1, lineterm=""
    )
    kept: list[str] = []
    size = 0
    for number, line in enumerate(lines):
        shown = line if len(line) <= DIFF_LINE_CHARS else line[:DIFF_LINE_CHARS] + "…"
        if number >= DIFF_LINES or size + len(shown) > DIFF_CHARS:
            kept.append("…")
            break
        kept.append(shown)
        size += len(shown) + 1
    return "\n".join(kept)


def quoted(line: str) -> str:
    return line if len(line) <= QUOTE_CHARS else line[:QUOTE_CHARS] + "…"


def change_message(diff: str) -> str:
    """What changed, in a sentence: the first removed and the first added line of the diff."""
    body = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    removed = next((line[1:] for line in body if line.startswith("-")), None)
    added = next((line[1:] for line in body if line.startswith("+")), None)
    if removed is not None and added is not None:
        return _("The content changed: “%(old)s” became “%(new)s”.") % {
            "old": quoted(removed),
            "new": quoted(added),
        }
    if added is not None:
        return _("The content changed: “%(new)s” appeared.") % {"new": quoted(added)}
    if removed is not None:
        return _("The content changed: “%(old)s” disappeared.") % {"old": quoted(removed)}
    return _("The content changed after the first %(chars)d characters kept for comparison.") % {
        "chars": EXCERPT_CHARS
    }


@dataclass(frozen=True)
class Comparison:
    """The content against the baseline: the verdict and the details it leaves in the result."""

    verdict: Verdict
    details: dict[str, Any]
    message: str = ""


def compare(
    content: PageContent, options: Options, digest: str, baseline: Baseline | None
) -> Comparison:
    """Compare the content with the baseline (a baseline learned under other settings is none).

    The excerpt is kept only where it may become the baseline (learned or changed), so
    unchanged results stay small.
    """
    details: dict[str, Any] = {"sha256": content.sha256, "options_digest": digest}
    if not options.alert_on_change:
        return Comparison(Verdict.UNWATCHED, {**details, "baseline": Verdict.UNWATCHED})
    if baseline is None or baseline.options_digest != digest:
        excerpt = content.excerpt()
        return Comparison(
            Verdict.LEARNED, {**details, "baseline": Verdict.LEARNED, "excerpt": excerpt}
        )
    if baseline.sha256 == content.sha256:
        return Comparison(Verdict.UNCHANGED, {**details, "baseline": Verdict.UNCHANGED})
    diff = content_diff(baseline.excerpt, content.excerpt())
    changed = {
        **details,
        "baseline": Verdict.CHANGED,
        "baseline_sha256": baseline.sha256,
        "baseline_learned_at": baseline.learned_at,
        "excerpt": content.excerpt(),
        "diff": diff,
    }
    return Comparison(Verdict.CHANGED, changed, change_message(diff))


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one content check of a page and compare it with the monitor's baseline.

    1. Read the options and the baseline the engine handed over.
    2. Fetch the page; a transport failure keeps its class, a non-2xx answer is http_status
       (an error page never becomes a baseline).
    3. Normalize and hash it off the event loop (parsing a large page takes a while).
    4. Judge, most specific first: the selector matches nothing, an expected text is missing,
       the content changed; else up (and, without a baseline, this content is learned).
    """
    checked_at = timezone.now()
    config = dict(target.config)
    baseline = Baseline.from_config(config.pop(BASELINE_KEY, None))
    try:
        options = Options.model_validate(config)
    except ValidationError as exc:
        return http.invalid_options(target, checked_at, exc)
    try:
        page = await outbound.fetch(
            target.url, allowlist=target.allowlist, timeout_s=target.timeout_s
        )
    except FetchError as exc:
        return http.transport_failure(target, checked_at, exc)
    if not 200 <= page.status < 300:
        return http.response_outcome(
            target, checked_at, page, FailureClass.HTTP_STATUS, status_message(page)
        )
    try:
        content = await asyncio.to_thread(read_content, page.text(), options)
    except PatternTooSlow as slow:
        return pattern_too_slow(target, checked_at, slow)
    if content is None:
        message = _("The CSS selector “%(selector)s” matches nothing on the page.") % {
            "selector": options.selector
        }
        failure = FailureClass.ASSERTION_FAILED
        return http.response_outcome(
            target, checked_at, page, failure, message, {"selector": options.selector}
        )
    return verdict(target, checked_at, page, content, options, baseline)


def pattern_too_slow(target: CheckTarget, checked_at: datetime, slow: PatternTooSlow) -> Outcome:
    """An ``ignore`` pattern too slow for the page: a failure of the check, not of the site."""
    message = _(
        "Ignore pattern %(number)d (%(pattern)s) took more than %(seconds)s s on this page; "
        "make it simpler."
    ) % {"number": slow.number, "pattern": quoted(slow.pattern), "seconds": PATTERN_SECONDS}
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=False,
        failure_class=FailureClass.INTERNAL_ERROR,
        message=message,
    )


def verdict(
    target: CheckTarget,
    checked_at: datetime,
    page: FetchedResponse,
    content: PageContent,
    options: Options,
    baseline: Baseline | None,
) -> Outcome:
    """The outcome of a page read as content: missing texts first, then the comparison."""
    comparison = compare(content, options, options.digest(target.url), baseline)
    details = comparison.details
    missing = missing_texts(content, options.must_contain)
    if missing:
        if comparison.verdict == Verdict.LEARNED:
            details = {**details, "baseline": Verdict.NOT_LEARNED}
        message = _("The text “%(text)s” is missing.") % {"text": quoted(missing[0])}
        failure = FailureClass.KEYWORD_MISSING
        return http.response_outcome(
            target, checked_at, page, failure, message, {**details, "missing": missing}
        )
    if comparison.verdict == Verdict.CHANGED:
        failure = FailureClass.CONTENT_CHANGED
        return http.response_outcome(target, checked_at, page, failure, comparison.message, details)
    messages = {
        Verdict.LEARNED: _("Baseline learned: from now on, changes of this content alert."),
        Verdict.UNCHANGED: _("The content is unchanged."),
        Verdict.UNWATCHED: _("The page was read; changes of its content do not alert."),
    }
    return http.response_outcome(
        target, checked_at, page, FailureClass.NONE, messages[comparison.verdict], details
    )


def status_message(page: FetchedResponse) -> str:
    return _("HTTP %(status)d: the page could not be read.") % {"status": page.status}
