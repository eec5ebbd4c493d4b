"""One browser check's session: a fresh Chromium context, watched and bounded.

The contract the browser kinds (``transaction``, ``speed``) use::

    with open_session(SessionOptions(allowlist=target.allowlist, timeout_s=30)) as session:
        response = session.page.goto(url)
        ...
        session.console_errors, session.page_errors, session.failed_requests,
        session.blocked_requests  # what the page did, for the result
        session.screenshot() -> bytes; session.save_trace(path)

Every request the page makes leaves through the guard proxy (the network policy at connect
time); a check that overruns ``timeout_s`` has its browser killed, and the Playwright call
that was waiting raises :class:`BrowserStopped`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, ViewportSize, sync_playwright

from sitecare.lib.netpolicy import IPNetwork

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MOBILE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
DESKTOP_VIEWPORT: ViewportSize = {"width": 1366, "height": 768}


class BrowserStopped(Exception):
    """The browser was killed (hard timeout, memory cap) or crashed during the check."""


@dataclass(frozen=True)
class SessionOptions:
    """How to open one check's context."""

    allowlist: tuple[IPNetwork, ...] = ()
    # Hosts whose requests are refused before they leave (analytics, ads): exact names or
    # "*.example.com" patterns. A refused request shows in ``blocked_requests``.
    blocked_hosts: tuple[str, ...] = ()
    mobile: bool = False
    timeout_s: float = 30.0
    record_trace: bool = True
    # A speed measurement: no other check runs on this runner meanwhile.
    exclusive: bool = False


@dataclass
class BrowserSession:
    """A live context and page, with what the page did so far."""

    context: BrowserContext
    page: Page
    browser_version: str
    console_errors: list[dict[str, Any]] = field(default_factory=list)
    page_errors: list[dict[str, Any]] = field(default_factory=list)
    failed_requests: list[dict[str, Any]] = field(default_factory=list)
    blocked_requests: list[dict[str, Any]] = field(default_factory=list)
    tracing: bool = False

    def screenshot(self) -> bytes:
        return self.page.screenshot(type="png", timeout=5_000)

    def save_trace(self, path: Path) -> None:
        if self.tracing:
            self.context.tracing.stop(path=str(path))
            self.tracing = False


@contextlib.contextmanager
def open_session(options: SessionOptions) -> Iterator[BrowserSession]:
    """Open a fresh context for one check (a plain launch; the pool and proxy replace it)."""
    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *_blocking_args(options.blocked_hosts)]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(
                viewport=MOBILE_VIEWPORT if options.mobile else DESKTOP_VIEWPORT,
                is_mobile=options.mobile,
                has_touch=options.mobile,
                service_workers="allow",
            )
            context.set_default_timeout(options.timeout_s * 1000)
            if options.record_trace:
                context.tracing.start(screenshots=True, snapshots=True)
            page = context.new_page()
            session = BrowserSession(context, page, browser.version, tracing=options.record_trace)
            page.on("console", lambda m: _console(session, m))
            page.on("pageerror", lambda e: session.page_errors.append({"message": str(e)[:500]}))
            page.on("requestfailed", lambda r: _failed(session, r, options.blocked_hosts))
            yield session
        finally:
            browser.close()


def _console(session: BrowserSession, message: Any) -> None:
    if message.type == "error":
        session.console_errors.append({"text": message.text[:500]})


def _failed(session: BrowserSession, request: Any, blocked_hosts: tuple[str, ...]) -> None:
    session.failed_requests.append(
        {"url": request.url[:500], "error": (request.failure or "")[:200]}
    )
    host = urlsplit(request.url).hostname or ""
    if any(_host_matches(host, pattern) for pattern in blocked_hosts):
        session.blocked_requests.append(
            {"url": request.url[:500], "host": host, "reason": "blocked_host"}
        )


# Blocked hosts in the plain version: Chromium resolves them to nothing, so no request to
# them (a redirect's included) leaves the browser; the guard proxy replaces this.
def _blocking_args(blocked_hosts: tuple[str, ...]) -> list[str]:
    if not blocked_hosts:
        return []
    rules = ", ".join(f"MAP {host} ~NOTFOUND" for host in blocked_hosts)
    return [f"--host-resolver-rules={rules}"]


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern
