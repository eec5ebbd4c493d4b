"""One browser check's session: a fresh Chromium context, watched and bounded.

The contract the browser kinds (``transaction``, ``speed``) use::

    with open_session(SessionOptions(allowlist=target.allowlist, timeout_s=30)) as session:
        response = session.page.goto(url)
        ...
        session.console_errors, session.page_errors, session.failed_requests,
        session.blocked_requests  # what the page did, for the result
        session.screenshot() -> bytes; session.save_trace(path)

Every request the page makes leaves through the guard proxy (the network policy at connect
time, :mod:`monitoring.browser.proxy`) on a listener of this session's own. A check that
overruns ``timeout_s`` (plus ``SITECARE_BROWSER_KILL_GRACE_SECONDS``) or pushes the browser
above ``SITECARE_BROWSER_MEMORY_MB`` has its browser killed: the Playwright call that was
waiting fails (``session.stopped`` is then true), and leaving the ``with`` block raises
:class:`BrowserStopped` whatever the block did, so a kind catches it around the block.
A block that ends with an exception, a crashed page or :meth:`BrowserSession.recycle_after`
gets the next check a fresh browser.

Inside the block the thread counts as running an event loop (Playwright's sync API), so
Django refuses database calls there: do database work (``artifacts.keep``) after the block
(``artifacts.new_path`` and writing files are fine inside it). Between sessions the thread is
free for the database again.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from playwright.sync_api import BrowserContext, Page, ViewportSize

from monitoring.browser.pool import (
    CLOSE_TIMEOUT_S,
    NO_LOOPBACK_BYPASS,
    WATCHDOG,
    BrowserStopped,
    Slot,
    Watch,
    machine_lock,
    pool,
)
from monitoring.browser.proxy import (
    REASON_POLICY,
    DownloadBudget,
    Policy,
    Refusal,
    UpstreamError,
    guard_proxy,
)
from sitecare.lib.http import shown_address
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import IPNetwork

__all__ = ["BrowserSession", "BrowserStopped", "SessionOptions", "open_session"]

MOBILE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
DESKTOP_VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
# Pages a context may hold (the first and its popups); more are closed as they open.
MAX_PAGES = 5
# WebRTC sends UDP itself, never through the proxy; Chromium is told to send none
# (pool.GUARD_ARGS). This shim only *reports* the ICE servers a page names, so a STUN server
# shows as a blocked request; the block does not depend on it.
_ICE_BINDING = "__sitecareIceServer"
_ICE_SCRIPT = """(() => {
  const report = window.__BINDING__, Native = window.RTCPeerConnection;
  if (!Native || !report) return;
  const note = (config) => { try {
    for (const server of (config && config.iceServers) || [])
      for (const url of [].concat(server.urls || server.url || [])) report(String(url));
  } catch (e) {} };
  function RTCPeerConnection(config, ...rest) { note(config); return new Native(config, ...rest); }
  RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(RTCPeerConnection, Native);
  const setConfiguration = Native.prototype.setConfiguration;
  Native.prototype.setConfiguration = function (config) {
    note(config); return setConfiguration.call(this, config);
  };
  window.RTCPeerConnection = RTCPeerConnection;
  if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = RTCPeerConnection;
})();""".replace("__BINDING__", _ICE_BINDING)
# How Chromium words a request the proxy refused (requests; WebSockets say it in words).
_PROXY_FAILURES = (
    "ERR_TUNNEL_CONNECTION_FAILED",
    "ERR_EMPTY_RESPONSE",
    "tunnel via proxy server failed",
)


@dataclass(frozen=True)
class SessionOptions:
    """How to open one check's context."""

    allowlist: tuple[IPNetwork, ...] = ()
    # Hosts whose requests are refused before they leave (analytics, ads): exact names or
    # "*.example.com" patterns (the name itself and every name under it). A refused request
    # shows in ``blocked_requests``.
    blocked_hosts: tuple[str, ...] = ()
    mobile: bool = False
    timeout_s: float = 30.0
    record_trace: bool = True
    # A speed measurement: no other check runs on this machine meanwhile.
    exclusive: bool = False
    # What the pages may download, all requests together (MB; None: the setting
    # SITECARE_BROWSER_MAX_DOWNLOAD_MB). Past it the check stops (BrowserStopped "heavy").
    max_download_mb: float | None = None


def host_key(host: str) -> str:
    """A host as the proxy and the page's URLs both spell it (IPv6 compressed, lower case)."""
    name = host.strip("[]").rstrip(".").lower()
    try:
        return shown_address(str(ipaddress.ip_address(name)))
    except ValueError:
        return name


class _Network:
    """What the proxy refused or failed to reach for this session, from both threads.

    A refused CONNECT names only host and port, and the page's own request events reach this
    thread later than the proxy's refusal; so such a refusal is first listed under a URL made of
    host and port, which the page's URL for that host and port replaces once it is known
    (from its request, WebSocket or failure event).
    """

    def __init__(self, blocked: list[dict[str, Any]]) -> None:
        self.blocked = blocked
        self.refused: dict[tuple[str, int], str] = {}
        self.errors: dict[tuple[str, int], str] = {}
        self.error_classes: dict[tuple[str, int], str] = {}
        self.asked: dict[tuple[str, int], str] = {}  # the last URL the page asked per host:port
        self.placeholders: dict[tuple[str, int], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def note_request(self, url: str) -> None:
        key = _url_key(url)
        if key is None:
            return
        with self._lock:
            if len(self.asked) < 1000:
                self.asked[key] = url
            self._name_placeholder(key, url)

    def on_refused(self, refusal: Refusal) -> None:
        """Called on the proxy's thread: a refused connection becomes a blocked request."""
        key = (host_key(refusal.host), refusal.port)
        with self._lock:
            self.refused[key] = refusal.reason
            exact = refusal.url.startswith("http://")
            url = refusal.url if exact else self.asked.get(key, refusal.url)
            entry = self._add(url, key, refusal.reason)
            if entry is not None and not exact and key not in self.asked:
                self.placeholders[key] = entry

    def on_error(self, error: UpstreamError) -> None:
        with self._lock:
            key = (host_key(error.host), error.port)
            self.errors[key] = error.message
            self.error_classes[key] = error.failure

    def upstream_failure(self, url: str) -> tuple[str, str] | None:
        """Why the proxy could not reach this URL's host: (failure class, message), or None."""
        key = _url_key(url)
        with self._lock:
            if key is None or key not in self.errors:
                return None
            return self.error_classes.get(key, ""), self.errors[key]

    def on_ice_server(self, url: str) -> None:
        """A STUN/TURN server the page named: its UDP is never sent, so it is blocked."""
        scheme, _, rest = url.partition(":")
        host_port = rest.split("?", 1)[0]
        if scheme.lower() in ("stun", "turn") and "transport=tcp" not in url.lower():
            host = host_port.rsplit(":", 1)[0] if host_port.count(":") == 1 else host_port
            if host.startswith("["):
                host = host[1 : host.find("]")]
            with self._lock:
                self._add(url, (host_key(host), 0), REASON_POLICY)

    def failure_of(self, url: str, failure: str) -> tuple[bool, str]:
        """Whether a failed request was one the proxy refused, and the error to show."""
        key = _url_key(url)
        if key is None or not any(code in failure for code in _PROXY_FAILURES):
            return False, failure
        with self._lock:
            if key in self.refused:
                if not self._name_placeholder(key, url):
                    self._add(url, key, self.refused[key])
                return True, failure
            if key in self.errors:
                return False, self.errors[key]
        return False, failure

    def _add(self, url: str, key: tuple[str, int], reason: str) -> dict[str, Any] | None:
        entry = {"url": url[:500], "host": key[0], "reason": reason}
        if entry in self.blocked or len(self.blocked) >= 500:
            return None
        self.blocked.append(entry)
        return entry

    def _name_placeholder(self, key: tuple[str, int], url: str) -> bool:
        entry = self.placeholders.pop(key, None)
        if entry is None:
            return False
        if any(other["url"] == url[:500] for other in self.blocked):
            self.blocked.remove(entry)
        else:
            entry["url"] = url[:500]
        return True


def _url_key(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "wss": 443, "http": 80, "ws": 80}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return host_key(parts.hostname), port


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
    closed_popups: int = 0
    watch: Watch | None = field(default=None, repr=False)
    troubled: bool = False
    network: _Network | None = field(default=None, repr=False)

    def upstream_failure(self, url: str) -> tuple[str, str] | None:
        """Why the guard proxy could not reach ``url``'s host (refused, no DNS, timeout…) as
        (failure class, message); None when it did not fail there. Chromium only sees a
        failed tunnel or an empty reply, so this is what tells a check the real reason."""
        return self.network.upstream_failure(url) if self.network else None

    @property
    def stopped(self) -> bool:
        """True once the watchdog killed the browser (the check is over)."""
        return bool(self.watch and self.watch.reason)

    def screenshot(self) -> bytes:
        return self.page.screenshot(type="png", timeout=5_000)

    def save_trace(self, path: Path) -> None:
        if self.tracing:
            self.context.tracing.stop(path=str(path))
            self.tracing = False

    def recycle_after(self) -> None:
        """Ask for a fresh browser for the next check (this one's state is not trusted)."""
        self.troubled = True


@contextlib.contextmanager
def open_session(options: SessionOptions) -> Iterator[BrowserSession]:
    """Open a fresh context for one check, on this process's browser, behind the guard proxy.

    1. Take the machine's browser lock (exclusive for a speed measurement) and a browser.
    2. Open a proxy listener for this session's policy; the context's proxy is that listener.
    3. Arm the watchdog (timeout + grace, memory cap), then hand the session to the caller.
    4. Close the context and listener; retire the browser when it is due or was troubled.
    """
    with machine_lock(exclusive=options.exclusive), pool().checkout() as slot:
        max_mb = options.max_download_mb or settings.SITECARE_BROWSER_MAX_DOWNLOAD_MB
        blocked: list[dict[str, Any]] = []
        network = _Network(blocked)
        listener = guard_proxy().open_listener(
            Policy(
                allowlist=tuple(options.allowlist),
                blocked_hosts=tuple(options.blocked_hosts),
                on_refused=network.on_refused,
                on_error=network.on_error,
                connect_timeout_s=min(options.timeout_s, 10.0),
                # Called on the proxy's thread, once the watch below is armed.
                download=DownloadBudget(
                    int(max_mb * 1024 * 1024), lambda _limit: WATCHDOG.stop(watch, "heavy")
                ),
            )
        )
        grace = settings.SITECARE_BROWSER_KILL_GRACE_SECONDS
        cap_mb = settings.SITECARE_BROWSER_MEMORY_MB
        watch = WATCHDOG.arm(slot.pid, options.timeout_s + grace, cap_mb)
        session: BrowserSession | None = None
        troubled = True
        stopped = ""
        try:
            session = _new_session(slot, options, listener.url, network, watch)
            yield session
            troubled = session.troubled
        except BaseException as exc:
            stopped = watch.reason
            if stopped or not slot.browser or not slot.browser.is_connected():
                raise _stopped(watch) from exc
            raise
        finally:
            stopped = stopped or watch.reason  # decided before closing: a slow close is no stop
            if session is not None and not stopped and not troubled:
                _close_context(session, watch)  # a troubled browser is retired instead
                troubled = session.troubled
            WATCHDOG.disarm(watch)
            listener.close()
            pool().after_check(slot, troubled=troubled or bool(watch.reason))
        if stopped:
            raise _stopped(watch)


def _stopped(watch: Watch) -> BrowserStopped:
    """The BrowserStopped of a session whose browser the watchdog killed or lost."""
    if watch.reason == "memory":
        message = _("The page used more memory than a check may (%(limit)s MB): stopped.") % {
            "limit": int(watch.cap_mb)
        }
        return BrowserStopped("memory", message)
    if watch.reason == "heavy":
        message = _("The pages downloaded more than a check may (%(limit)s MB): stopped.") % {
            "limit": int(settings.SITECARE_BROWSER_MAX_DOWNLOAD_MB)
        }
        return BrowserStopped("heavy", message)
    if watch.reason == "timeout":
        return BrowserStopped(
            "timeout", _("The check did not finish in time: its browser was stopped.")
        )
    return BrowserStopped("crash", _("The browser stopped during the check."))


def _new_session(
    slot: Slot, options: SessionOptions, proxy_url: str, network: _Network, watch: Watch
) -> BrowserSession:
    assert slot.browser is not None
    context = slot.browser.new_context(
        viewport=MOBILE_VIEWPORT if options.mobile else DESKTOP_VIEWPORT,
        is_mobile=options.mobile,
        has_touch=options.mobile,
        service_workers="allow",
        proxy={"server": proxy_url, "bypass": NO_LOOPBACK_BYPASS},
    )
    context.set_default_timeout(options.timeout_s * 1000)
    context.expose_binding(_ICE_BINDING, lambda _source, url: network.on_ice_server(str(url)))
    context.add_init_script(_ICE_SCRIPT)
    if options.record_trace:
        context.tracing.start(screenshots=True, snapshots=True)
    page = context.new_page()
    session = BrowserSession(
        context,
        page,
        slot.browser.version,
        blocked_requests=network.blocked,
        tracing=options.record_trace,
        watch=watch,
        network=network,
    )
    context.on("request", lambda request: network.note_request(request.url))
    context.on("requestfailed", lambda request: _failed(session, network, request))
    context.on("page", lambda opened: _popup(session, network, opened))
    _watch_page(session, network, page)
    return session


def _watch_page(session: BrowserSession, network: _Network, page: Page) -> None:
    page.on("console", lambda m: _console(session, m))
    page.on("pageerror", lambda e: session.page_errors.append({"message": str(e)[:500]}))
    page.on("crash", lambda _page: _crashed(session))
    page.on("websocket", lambda ws: _websocket(network, ws))
    page.on("response", lambda response: _error_response(session, response))


def _error_response(session: BrowserSession, response: Any) -> None:
    """An answer of 400 or more is a failed request too (a pay endpoint's 502 behind a page
    that itself answered 200): listed with its status beside the network failures."""
    if response.status >= 400 and len(session.failed_requests) < 200:
        session.failed_requests.append(
            {
                "url": response.url[:500],
                "error": f"HTTP {response.status}",
                "method": response.request.method,
                "status": response.status,
            }
        )


def _websocket(network: _Network, ws: Any) -> None:
    """WebSockets are no "request" events: note the URL, and its failure if refused."""
    network.note_request(ws.url)
    ws.on("socketerror", lambda error: network.failure_of(ws.url, str(error)))


def _popup(session: BrowserSession, network: _Network, opened: Page) -> None:
    if opened == session.page:
        return
    if len(session.context.pages) > MAX_PAGES:
        session.closed_popups += 1
        session.troubled = True  # a page opening windows without end: recycle after it
        with contextlib.suppress(Exception):
            opened.close()
        return
    _watch_page(session, network, opened)


def _crashed(session: BrowserSession) -> None:
    session.troubled = True
    session.page_errors.append({"message": str(_("The page crashed (its renderer process died)."))})


def _close_context(session: BrowserSession, watch: Watch) -> None:
    """Close the context within a few seconds whatever the page is doing (else: killed)."""
    watch.deadline = time.monotonic() + CLOSE_TIMEOUT_S
    try:
        session.context.close()
    except Exception:  # a dying browser: the pool retires it
        session.troubled = True


def _console(session: BrowserSession, message: Any) -> None:
    if message.type == "error" and len(session.console_errors) < 200:
        session.console_errors.append({"text": message.text[:500]})


def _failed(session: BrowserSession, network: _Network, request: Any) -> None:
    blocked, error = network.failure_of(request.url, request.failure or "")
    if not blocked and len(session.failed_requests) < 200:
        session.failed_requests.append({"url": request.url[:500], "error": error[:200]})
