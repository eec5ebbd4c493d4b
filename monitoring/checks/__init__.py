"""The one registry of check kinds. A new kind is one file here plus one line in ``KINDS``.

Each kind module exposes:

- ``Options``: a pydantic model of its kind-specific settings (``extra="forbid"``, so an
  unknown field is an error naming it), stored in ``Monitor.config``;
- ``run``: the async function the probe engine calls for one check;
- ``normalize_target``: validates what the monitor points at (``Monitor.url``: a URL for HTTP,
  ``host:port`` for TCP, a domain name for DNS…), raising ValueError with a message;
- ``target_host``: the host of a normalised target, for the network policy's early refusal of
  literal addresses (None when the target names no host to connect to).

Browser kinds (``transaction``, ``speed``) also give ``run_in_browser``: a plain function that
runs one check in a browser session. They run as jobs on the job runner, never in the probe
engine (their ``run`` only says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.module_loading import import_string
from pydantic import BaseModel

from monitoring.checks import (
    browser_kind,
    content,
    dns,
    domain,
    heartbeat,
    http,
    seo,
    speed,
    tcp,
    tls,
    transaction,
)
from monitoring.engine.target import CheckTarget, Runner
from monitoring.logic import Outcome
from monitoring.models import CheckKind


class BrowserRunner(Protocol):
    """A browser kind's check: one run in a browser session, synchronous (it runs in a job).

    A trial ("test now") passes ``keep_artifacts=False``: nothing is stored.
    """

    def __call__(self, target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome: ...


@dataclass(frozen=True)
class KindSpec:
    options: type[BaseModel]
    run: Runner
    normalize_target: Callable[[str], str]
    target_host: Callable[[str], str | None]
    # Kinds whose target sitecare makes up (a heartbeat's secret ping token): an empty target
    # means "keep the stored one, or make one".
    new_target: Callable[[], str] | None = None
    # Browser kinds: the check the job runner runs (None for the probe engine's kinds).
    run_in_browser: BrowserRunner | None = None
    # Kept beside the result, in the transaction that records it (once): a speed measurement.
    record_extra: Callable[[Outcome], None] | None = None
    # How long one browser check of these options may take at most (seconds), given the
    # monitor's timeout: the job layer's hard limit for it adds a margin to this.
    time_limit: Callable[[Mapping[str, Any], float], float] | None = None

    @property
    def in_browser(self) -> bool:
        return self.run_in_browser is not None


def browser_runner(path: str) -> BrowserRunner:
    """A browser kind's run function, named by its dotted path and imported at its first call.

    The runners load Playwright (and the browser pool); naming them here by path keeps them out
    of every process that only reads the registry (each ``sitecare`` command, the web server,
    the probe engine): see sitecare/tests/test_cli_startup.py.
    """

    def run(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
        runner: BrowserRunner = import_string(path)
        return runner(target, keep_artifacts=keep_artifacts)

    run.__qualname__ = run.__name__ = path.rsplit(".", 1)[1]
    return run


KINDS: dict[str, KindSpec] = {
    CheckKind.HTTP: KindSpec(http.Options, http.run, http.normalize_target, http.target_host),
    CheckKind.DNS: KindSpec(dns.Options, dns.run, dns.normalize_target, dns.target_host),
    CheckKind.DOMAIN: KindSpec(
        domain.Options, domain.run, domain.normalize_target, domain.target_host
    ),
    CheckKind.TCP: KindSpec(tcp.Options, tcp.run, tcp.normalize_target, tcp.target_host),
    CheckKind.TLS: KindSpec(tls.Options, tls.run, tls.normalize_target, tls.target_host),
    CheckKind.SEO: KindSpec(seo.Options, seo.run, seo.normalize_target, seo.target_host),
    CheckKind.CONTENT: KindSpec(
        content.Options, content.run, content.normalize_target, content.target_host
    ),
    CheckKind.HEARTBEAT: KindSpec(
        heartbeat.Options,
        heartbeat.run,
        heartbeat.normalize_target,
        heartbeat.target_host,
        new_target=heartbeat.new_token,
    ),
    CheckKind.TRANSACTION: KindSpec(
        transaction.Options,
        browser_kind.not_in_engine,
        transaction.normalize_target,
        transaction.target_host,
        run_in_browser=browser_runner("monitoring.browser.transaction_check.run_in_browser"),
        time_limit=transaction.time_limit,
    ),
    CheckKind.SPEED: KindSpec(
        speed.Options,
        browser_kind.not_in_engine,
        speed.normalize_target,
        speed.target_host,
        run_in_browser=browser_runner("monitoring.browser.speed_check.run_in_browser"),
        time_limit=speed.time_limit,
        record_extra=speed.record_extra,
    ),
}

# Views of the registry for callers that need one facet.
OPTIONS: dict[str, type[BaseModel]] = {kind: spec.options for kind, spec in KINDS.items()}
RUNNERS: dict[str, Runner] = {kind: spec.run for kind, spec in KINDS.items()}
BROWSER_KINDS: frozenset[str] = frozenset(k for k, spec in KINDS.items() if spec.in_browser)
# What the probe engine checks itself: not heartbeats (judged from pings), not browser kinds.
ENGINE_KINDS: frozenset[str] = frozenset(KINDS) - BROWSER_KINDS - {CheckKind.HEARTBEAT}


def kind_spec(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise ValueError(f"unknown check kind {kind!r} (known: {known})") from None


def options_model(kind: str) -> type[BaseModel]:
    return kind_spec(kind).options


def validate_options(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate kind-specific options; raise pydantic.ValidationError naming bad fields."""
    return options_model(kind).model_validate(data).model_dump(mode="json", exclude_defaults=True)


def secret_fields(kind: str) -> frozenset[str]:
    """The kind's options that hold secrets (a kind's ``Options.SECRET_FIELDS``; none if unset)."""
    fields: frozenset[str] = getattr(options_model(kind), "SECRET_FIELDS", frozenset())
    return fields
