"""SEO accidents check: noindex, robots.txt blocking everything, lost sitemap, stray canonical.

Every request goes through the guarded outbound client under the monitor's allowlist. The page
is fetched together with ``/robots.txt``; the sitemaps follow, within what is left of the
monitor's timeout, so one check never takes much longer than one timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit
from xml.parsers import expat

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from monitoring.checks import http
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import FetchedResponse, FetchError, FetchFailure, OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import validate_check_url

# Meta names and X-Robots-Tag agents whose noindex keeps the page out of search results.
INDEXER_META_NAMES = frozenset({"robots", "googlebot"})
INDEXER_AGENTS = frozenset({"googlebot"})
NOINDEX_DIRECTIVES = frozenset({"noindex", "none"})
# X-Robots-Tag directives that carry a value after a colon (so the part before is no agent).
VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
# Robots.txt patterns that match every path, for a Disallow (blocked) or an Allow (reopened).
WHOLE_SITE_PATTERNS = frozenset({"/", "/*"})
DEFAULT_PORTS = {"http": 80, "https": 443}
GZIP_MAGIC = b"\x1f\x8b"
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
# Robots.txt may list many sitemaps; a few prove the point without a burst of requests.
MAX_SITEMAPS = 3


def normalize_target(value: str) -> str:
    """An SEO monitor points at the http(s) URL of a page that must stay findable."""
    return http.normalize_target(value)


def target_host(target: str) -> str | None:
    return http.target_host(target)


class Options(BaseModel):
    """Kind-specific settings of an SEO monitor."""

    model_config = ConfigDict(extra="forbid")

    must_be_indexed: bool = True
    check_robots: bool = True
    check_sitemap: bool = True
    sitemap_url: str | None = None
    canonical: Literal["self", "ignore"] = "self"

    @field_validator("sitemap_url")
    @classmethod
    def _check_sitemap_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("check_sitemap") is False:
            raise ValueError(_("a sitemap_url makes no sense with check_sitemap off"))
        return validate_check_url(value)


@dataclass(frozen=True)
class Finding:
    """One SEO accident: a stable code for machines and a message for people."""

    code: str
    message: str

    def as_data(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class PageSignals:
    """What the page's HTML says about indexing: robots meta directives and canonical links."""

    robots_directives: list[str] = field(default_factory=list)
    canonicals: list[str] = field(default_factory=list)


class SignalParser(HTMLParser):
    """Collects ``<meta name=robots|googlebot>`` contents and ``<link rel=canonical>`` hrefs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.signals = PageSignals()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta" and values.get("name", "").strip().lower() in INDEXER_META_NAMES:
            self.signals.robots_directives.extend(split_directives(values.get("content", "")))
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.signals.canonicals.append(values.get("href", "").strip())


def split_directives(text: str) -> list[str]:
    return [part.strip().lower() for part in text.split(",") if part.strip()]


def page_signals(html: str) -> PageSignals:
    """Parse a (capped) page body; broken HTML yields what could be read before it broke."""
    parser = SignalParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's way of giving up on garbage
        pass
    return parser.signals


def header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """The values of a header, whatever the case the server wrote its name in."""
    wanted = name.lower()
    return [str(value) for key, value in headers.items() if str(key).lower() == wanted]


def header_noindex(value: str) -> bool:
    """Whether one X-Robots-Tag value forbids indexing to all crawlers or to Google.

    1. A leading ``agent:`` (not a valued directive like ``max-snippet:``) scopes the rest.
    2. The rest is a comma list of directives; ``noindex`` or ``none`` forbid indexing.
    """
    agent, colon, rest = value.partition(":")
    scoped = bool(colon) and agent.strip().lower() not in VALUED_DIRECTIVES
    if scoped and agent.strip().lower() not in INDEXER_AGENTS:
        return False
    directives = split_directives(rest if scoped else value)
    return any(d in NOINDEX_DIRECTIVES for d in directives)


def indexing_findings(page: FetchedResponse, signals: PageSignals) -> list[Finding]:
    """Noindex in the page's robots meta tags or in its X-Robots-Tag headers."""
    findings: list[Finding] = []
    if any(d in NOINDEX_DIRECTIVES for d in signals.robots_directives):
        findings.append(
            Finding("noindex_meta", _("The page carries a robots meta tag with noindex."))
        )
    if any(header_noindex(v) for v in header_values(page.headers, "X-Robots-Tag")):
        findings.append(
            Finding("noindex_header", _("The page is sent with an X-Robots-Tag: noindex header."))
        )
    return findings


def comparable_url(url: str) -> tuple[str, str, int | None, str, str]:
    """A URL reduced for equality: case of scheme and host, default port, trailing slash.

    1. Lower the scheme and host (IDN hosts in their ASCII form, as the client sends them).
    2. Drop the scheme's default port, the fragment and one trailing slash of the path.
    3. Undo percent-encoding in the path, so an encoded and a raw path compare equal.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    with contextlib.suppress(UnicodeError):  # not IDNA-encodable: compare it as written
        host = host.encode("idna").decode("ascii")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port == DEFAULT_PORTS.get(scheme):
        port = None
    path = unquote(parts.path).rstrip("/")
    return scheme, host, port, path, parts.query


def canonical_findings(page: FetchedResponse, asked: str, signals: PageSignals) -> list[Finding]:
    """A canonical link naming another URL than the page (as asked for, or as finally served)."""
    if not signals.canonicals or not signals.canonicals[0]:
        return []
    canonical = urljoin(page.url, signals.canonicals[0])
    selves = {comparable_url(asked), comparable_url(page.url)}
    if comparable_url(canonical) in selves:
        return []
    message = _("The canonical link points elsewhere: %(url)s") % {"url": canonical[:300]}
    return [Finding("canonical_elsewhere", message)]


@dataclass
class RobotsGroup:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Robots:
    """What a robots.txt says: its groups (agents then rules) and the sitemaps it lists."""

    groups: list[RobotsGroup] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)

    def blocks_everything(self) -> bool:
        """Whether the ``*`` groups disallow the whole site and no Allow reopens it all."""
        rules = [rule for g in self.groups if "*" in g.agents for rule in g.rules]
        blocked = any(k == "disallow" and p in WHOLE_SITE_PATTERNS for k, p in rules)
        reopened = any(k == "allow" and p in WHOLE_SITE_PATTERNS for k, p in rules)
        return blocked and not reopened


def parse_robots(text: str) -> Robots:
    """Read robots.txt records (RFC 9309): a run of user-agent lines opens a group.

    1. Drop comments and blank lines; split each record at its first colon.
    2. A user-agent after rules starts a new group; allow/disallow go to the open group.
    3. Sitemap records belong to no group.
    """
    robots = Robots()
    group: RobotsGroup | None = None
    for line in text.splitlines():
        key, colon, value = line.split("#", 1)[0].partition(":")
        key, value = key.strip().lower(), value.strip()
        if not colon:
            continue
        if key == "user-agent":
            if group is None or group.rules:
                group = RobotsGroup()
                robots.groups.append(group)
            group.agents.append(value.lower())
        elif key in ("allow", "disallow") and group is not None:
            group.rules.append((key, value))
        elif key == "sitemap" and value:
            robots.sitemaps.append(value)
    return robots


def robots_findings(fetched: FetchedResponse | FetchError) -> list[Finding]:
    """Findings about robots.txt: unreadable (5xx or no answer) or blocking the whole site.

    A 4xx means "no robots.txt", which search engines read as "crawl everything".
    """
    if isinstance(fetched, FetchError):
        message = _("robots.txt could not be fetched: %(error)s") % {"error": fetched.message}
        return [Finding("robots_unreachable", message)]
    if fetched.status >= 500:
        message = _("robots.txt answers HTTP %(status)d.") % {"status": fetched.status}
        return [Finding("robots_unreachable", message)]
    if 200 <= fetched.status < 300 and parse_robots(fetched.text()).blocks_everything():
        return [Finding("robots_disallow_all", _("robots.txt disallows the whole site."))]
    return []


def listed_sitemaps(fetched: FetchedResponse | FetchError | None) -> list[str]:
    if not isinstance(fetched, FetchedResponse) or not 200 <= fetched.status < 300:
        return []
    return [urljoin(fetched.url, url) for url in parse_robots(fetched.text()).sitemaps]


def sitemap_urls(
    options: Options, origin: str, robots: FetchedResponse | FetchError | None
) -> list[str]:
    """The sitemaps to check: the configured one, else those robots.txt lists, else the usual."""
    if not options.check_sitemap:
        return []
    if options.sitemap_url:
        return [options.sitemap_url]
    return (listed_sitemaps(robots) or [origin + "/sitemap.xml"])[:MAX_SITEMAPS]


class NotASitemap(Exception):
    """Raised from the XML parser's callbacks to stop at a DTD or a foreign root element."""


def sitemap_root_problem(body: bytes) -> str | None:
    """Why a body is not a sitemap (None when it is one).

    1. A gzip stream is taken as a compressed sitemap (not inflated: a bomb is cheap to send).
    2. Otherwise it must be well-formed XML with a urlset or sitemapindex root and no DTD
       (refusing DTDs keeps entity expansion out of the parser).
    """
    if body.startswith(GZIP_MAGIC):
        return None
    parser = expat.ParserCreate()
    roots: list[str] = []

    def refuse_doctype(*_args: object) -> None:
        raise NotASitemap(_("it has a document type declaration (an HTML page?)"))

    def start(name: str, _attrs: object) -> None:
        roots.append(name)

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(body, True)
    except NotASitemap as exc:
        return str(exc)
    except expat.ExpatError as exc:
        return _("it is not well-formed XML (%(error)s)") % {"error": exc}
    root = roots[0].rpartition(":")[2] if roots else ""
    if root not in SITEMAP_ROOTS:
        return _("its root element is %(root)s, not urlset or sitemapindex") % {"root": root}
    return None


def sitemap_finding(url: str, fetched: FetchedResponse | FetchError) -> Finding | None:
    """A finding about one sitemap, or None when it is reachable and reads as a sitemap.

    A sitemap over the body cap was reached; it is too large to read, not lost.
    """
    if isinstance(fetched, FetchError):
        if fetched.failure == FetchFailure.BODY_TOO_LARGE:
            return None
        message = _("The sitemap %(url)s is unreachable: %(error)s")
        return Finding("sitemap_unreachable", message % {"url": url, "error": fetched.message})
    if not 200 <= fetched.status < 300:
        message = _("The sitemap %(url)s answers HTTP %(status)d.")
        return Finding("sitemap_unreachable", message % {"url": url, "status": fetched.status})
    problem = sitemap_root_problem(fetched.body)
    if problem is None:
        return None
    message = _("The sitemap %(url)s is not an XML sitemap: %(problem)s")
    return Finding("sitemap_not_xml", message % {"url": url, "problem": problem})


@dataclass(frozen=True)
class Fetcher:
    """Fetches for one check: the monitor's allowlist and one deadline for the whole check."""

    outbound: OutboundClient
    target: CheckTarget
    deadline: float

    async def get(self, url: str) -> FetchedResponse:
        remaining = max(self.deadline - time.monotonic(), 0.05)
        return await self.outbound.fetch(url, allowlist=self.target.allowlist, timeout_s=remaining)

    async def get_or_error(self, url: str) -> FetchedResponse | FetchError:
        """A fetch whose failure is a value: a side resource failing is a finding, not a crash."""
        try:
            return await self.get(url)
        except FetchError as exc:
            return exc


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one SEO check of a page and list the accidents it found.

    1. Read the options (a stored config that no longer validates is a failure).
    2. Fetch the page and, alongside, robots.txt (needed for its rules or its sitemap list).
    3. A page that cannot be fetched keeps its transport class; a non-2xx page is http_status.
    4. Judge indexing, robots, canonical and sitemaps, worst first; any finding fails the check.
    """
    checked_at = timezone.now()
    try:
        options = Options.model_validate(dict(target.config))
    except ValidationError as exc:
        return http.invalid_options(target, checked_at, exc)
    fetcher = Fetcher(outbound, target, time.monotonic() + target.timeout_s)
    origin = origin_of(target.url)
    wants_robots = options.check_robots or (options.check_sitemap and not options.sitemap_url)
    robots_task = (
        asyncio.create_task(fetcher.get_or_error(origin + "/robots.txt")) if wants_robots else None
    )
    try:
        page = await fetcher.get(target.url)
        robots = await robots_task if robots_task is not None else None
    except FetchError as exc:
        return http.transport_failure(target, checked_at, exc)
    finally:
        # A failed page (or a cancelled check) must not leave robots.txt being fetched.
        if robots_task is not None and not robots_task.done():
            robots_task.cancel()
    if not 200 <= page.status < 300:
        return page_status_failure(target, checked_at, page)
    findings = page_and_robots_findings(page, target.url, robots, options)
    sitemaps = sitemap_urls(options, origin, robots)
    findings += await check_sitemaps(fetcher, sitemaps)
    return verdict(target, checked_at, page, findings, sitemaps)


def page_and_robots_findings(
    page: FetchedResponse,
    asked: str,
    robots: FetchedResponse | FetchError | None,
    options: Options,
) -> list[Finding]:
    """The findings the page and robots.txt give, worst first: noindex, robots, canonical."""
    signals = page_signals(page.text())
    findings = indexing_findings(page, signals) if options.must_be_indexed else []
    if options.check_robots and robots is not None:
        findings += robots_findings(robots)
    if options.canonical == "self":
        findings += canonical_findings(page, asked, signals)
    return findings


async def check_sitemaps(fetcher: Fetcher, urls: Iterable[str]) -> list[Finding]:
    wanted = list(urls)
    fetched = await asyncio.gather(*(fetcher.get_or_error(url) for url in wanted))
    found = (sitemap_finding(url, result) for url, result in zip(wanted, fetched, strict=True))
    return [finding for finding in found if finding is not None]


def page_status_failure(
    target: CheckTarget, checked_at: datetime, page: FetchedResponse
) -> Outcome:
    """A page that does not answer 2xx cannot be indexed, whatever its markup says."""
    failed = Outcome(
        target.monitor_id,
        checked_at,
        ok=False,
        status_code=page.status,
        response_ms=round(page.elapsed_ms, 1),
        failure_class=FailureClass.HTTP_STATUS,
        message=_("HTTP %(status)d: the page cannot be indexed.") % {"status": page.status},
    )
    return http.with_phases(failed, page.timing)


def verdict(
    target: CheckTarget,
    checked_at: datetime,
    page: FetchedResponse,
    findings: list[Finding],
    sitemaps: list[str],
) -> Outcome:
    """The outcome: down with the first (most important) finding named, else up."""
    if findings:
        failure, message = FailureClass.ASSERTION_FAILED, findings[0].message
        if len(findings) > 1:
            message = _("%(first)s (and %(more)d more)") % {
                "first": message,
                "more": len(findings) - 1,
            }
    else:
        failure, message = FailureClass.NONE, _("No SEO accident found.")
    details = {"findings": [f.as_data() for f in findings], "sitemaps": sitemaps}
    return http.response_outcome(target, checked_at, page, failure, message, details)
