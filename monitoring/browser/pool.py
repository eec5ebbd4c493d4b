"""The browsers of this process: Chromium launched once, reused, watched, recycled.

- One browser per thread that runs checks (Playwright's sync API binds a browser to the thread
  that started it); at most ``SITECARE_BROWSER_POOL_SIZE`` checks of one process hold a browser
  at once. The job runner runs one browser worker process per core, one check at a time.
- Every browser is launched with the guard flags (:data:`GUARD_ARGS`) and a browser-wide proxy
  that refuses everything; each check's context gets a proxy listener of its own.
- A watchdog thread kills a browser's whole process tree when its check overruns its deadline
  or the tree's memory passes ``SITECARE_BROWSER_MEMORY_MB``; the Playwright call that waited
  then fails, and the session raises :class:`BrowserStopped`.
- A browser is retired (closed, launched afresh for the next check) after
  ``SITECARE_BROWSER_RECYCLE_CHECKS`` checks, above the memory cap, after a kill, a crash or
  a troubled check.
- Speed measurements never overlap another check on this machine: :func:`machine_lock` takes an
  exclusive ``flock`` for them, a shared one for the others, behind a turnstile so a waiting
  measurement is not starved by a stream of shared holders.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Browser, Playwright, sync_playwright

from monitoring.browser.proxy import Listener, Policy, Refusal, guard_proxy
from sitecare.lib.messages import deferred as _
from sitecare.lib.procinfo import descendants

logger = logging.getLogger("sitecare.browser")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_BINARY = "/usr/lib/chromium/chromium"  # what /usr/bin/chromium (a script) runs
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Why each flag: docs/browser.md. The proxy itself (``--proxy-server`` with
# ``--proxy-bypass-list=<-loopback>``) is set through Playwright's ``proxy`` option.
GUARD_ARGS = (
    "--disable-quic",  # QUIC is UDP: it would not pass an HTTP proxy
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",  # WebRTC: no UDP, TCP via the proxy
    "--disable-pings",  # <a ping> beacons: nothing a check needs
)
NO_LOOPBACK_BYPASS = "<-loopback>"
WATCH_INTERVAL_S = 0.1
MEMORY_EVERY = 3  # ticks between memory samples (reading /proc costs; deadlines are cheap)
LAUNCH_TIMEOUT_MS = 30_000
CLOSE_TIMEOUT_S = 2.0


class BrowserStopped(Exception):
    """The browser was killed (hard timeout, memory cap) or crashed during the check.

    ``reason`` is "timeout", "memory", "heavy" (its pages downloaded more than a check
    may) or "crash"; ``message`` says it in the reader's
    language (a :mod:`sitecare.lib.messages` sentence, stored as data).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- processes ----------------------------------------------------------------------------


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def chromium_roots() -> set[int]:
    """The browser processes (not their helpers) below this process."""
    below = descendants(os.getpid())
    chromium = {pid for pid in below if _exe(pid) == CHROMIUM_BINARY}
    roots = set()
    for pid in chromium:
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) not in chromium:
                roots.add(pid)
    return roots


def tree_memory_mb(root: int) -> float:
    """Memory of a process and all below it, in MB: the sum of their PSS (shared pages once).

    Falls back to RSS for a process whose ``smaps_rollup`` cannot be read.
    """
    total_kb = 0
    for pid in {root} | descendants(root):
        total_kb += _pss_kb(pid)
    return total_kb / 1024


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def kill_tree(root: int) -> None:
    """SIGKILL a process and everything below it (collected first: orphans move away)."""
    for pid in [root, *descendants(root)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


# --- the watchdog ---------------------------------------------------------------------------


@dataclass
class Watch:
    """One check under watch: its browser's process tree, deadline and memory cap."""

    pid: int
    deadline: float  # time.monotonic()
    cap_mb: float
    reason: str = ""  # "timeout" or "memory" once fired
    peak_mb: float = 0.0


class Watchdog:
    """A thread that kills the browser of a check that overruns its deadline or memory cap."""

    def __init__(self) -> None:
        self._by_id: dict[int, Watch] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, pid: int, timeout_s: float, cap_mb: float) -> Watch:
        watch = Watch(pid, time.monotonic() + timeout_s, cap_mb)
        with self._lock:
            self._by_id[id(watch)] = watch
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="browser-watchdog")
                self._thread.daemon = True
                self._thread.start()
        return watch

    def stop(self, watch: Watch, reason: str) -> None:
        """Stop a check now, for ``reason`` (called from any thread): its browser is killed."""
        if watch.reason:
            return
        watch.reason = reason
        logger.warning("browser %s killed: %s", watch.pid, reason)
        kill_tree(watch.pid)

    def disarm(self, watch: Watch) -> None:
        with self._lock:
            self._by_id.pop(id(watch), None)

    def _run(self) -> None:
        tick = 0
        while True:
            time.sleep(WATCH_INTERVAL_S)
            tick += 1
            with self._lock:
                watches = list(self._by_id.values())
            for watch in watches:
                self._inspect(watch, with_memory=tick % MEMORY_EVERY == 0)

    def _inspect(self, watch: Watch, *, with_memory: bool) -> None:
        if watch.reason:
            return
        memory = tree_memory_mb(watch.pid) if with_memory else 0.0
        watch.peak_mb = max(watch.peak_mb, memory)
        if time.monotonic() > watch.deadline:
            watch.reason = "timeout"
        elif memory > watch.cap_mb:
            watch.reason = "memory"
        else:
            return
        logger.warning("browser %s killed: %s (%.0f MB)", watch.pid, watch.reason, memory)
        kill_tree(watch.pid)


WATCHDOG = Watchdog()


# --- browsers -----------------------------------------------------------------------------

_LAUNCH_LOCK = threading.Lock()


@dataclass
class Slot:
    """One thread's Playwright driver and browser, and how much the browser has done."""

    playwright: Playwright | None = None
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    browser: Browser | None = None
    pid: int = 0
    checks: int = 0
    launches: int = 0
    default_proxy: Listener | None = field(default=None, repr=False)

    def resume(self) -> None:
        """Mark Playwright's loop running in this thread again, as its sync API expects."""
        if self.loop is not None and not self.loop.is_closed():
            asyncio.events._set_running_loop(self.loop)

    def park(self) -> None:
        """Between checks, the thread runs no event loop: Django allows database calls again.

        Playwright's sync API leaves its loop marked running in the thread between its calls
        (its dispatcher greenlet is suspended inside it); :meth:`resume` restores the mark
        before the next call, as Playwright itself does after a signal interrupted its loop.
        """
        asyncio.events._set_running_loop(None)

    def ready(self) -> Browser:
        """The slot's browser, launched when there is none or the last one died."""
        self.resume()
        if self.browser is not None and self.browser.is_connected() and _alive(self.pid):
            return self.browser
        self.retire()
        if self.playwright is None:
            self.playwright = sync_playwright().start()
            self.loop = asyncio.get_running_loop()
        if self.default_proxy is None:
            self.default_proxy = guard_proxy().open_listener(
                Policy(deny_all=True, on_refused=_log_default_refusal)
            )
        with _LAUNCH_LOCK:  # the new root is told apart from other slots' by a before/after
            before = chromium_roots()
            self.browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*BASE_ARGS, *GUARD_ARGS, _heap_limit_flag()],
                proxy={"server": self.default_proxy.url, "bypass": NO_LOOPBACK_BYPASS},
                timeout=LAUNCH_TIMEOUT_MS,
            )
            new = chromium_roots() - before
        if len(new) != 1:
            self.retire()
            raise BrowserStopped("crash", _("The browser could not be started."))
        self.pid = new.pop()
        self.checks = 0
        self.launches += 1
        return self.browser

    def retire(self) -> None:
        """Close the browser (killing its tree if it will not close); the next check relaunches."""
        browser, pid = self.browser, self.pid
        self.browser, self.pid = None, 0
        if browser is None:
            return
        if pid and _alive(pid):
            watch = WATCHDOG.arm(pid, CLOSE_TIMEOUT_S, float("inf"))
            try:
                browser.close()
            except Exception as exc:  # a dead or dying browser: killed below anyway
                logger.info("browser %s did not close cleanly: %s", pid, exc)
            finally:
                WATCHDOG.disarm(watch)
            kill_tree(pid)  # helpers a crashed browser left behind
        _reap()

    def memory_mb(self) -> float:
        return tree_memory_mb(self.pid) if self.pid else 0.0


def _heap_limit_flag() -> str:
    """Each renderer's JavaScript heap limit: a third of the memory cap, so a page growing its
    heap without end crashes its own renderer (a clean page crash) before the tree (some 300 MB
    at rest) hits the cap."""
    heap_mb = max(128, settings.SITECARE_BROWSER_MEMORY_MB // 3)
    return f"--js-flags=--max-old-space-size={heap_mb}"


def _alive(pid: int) -> bool:
    return bool(pid) and _exe(pid) == CHROMIUM_BINARY


def _reap() -> None:
    """Collect exited children (the driver reaps its own; this is for the rare orphan)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _log_default_refusal(refusal: Refusal) -> None:
    # Chromium's own background calls (sign-in, component checks) end here every few seconds:
    # worth seeing when debugging the guard, noise in an operator's log.
    logger.debug("browser-wide proxy refused %s (%s)", refusal.url, refusal.reason)


class BrowserPool:
    """This process's browsers: one slot per thread, at most ``size`` in use at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)
        self._local = threading.local()

    def slot(self) -> Slot:
        slot = getattr(self._local, "slot", None)
        if slot is None:
            slot = self._local.slot = Slot()
        return slot

    def close(self) -> None:
        """Retire this thread's browser and stop its Playwright driver (worker shutdown, tests)."""
        slot = self.slot()
        slot.resume()
        slot.retire()
        if slot.playwright is not None:
            slot.playwright.stop()
            slot.playwright = slot.loop = None
        slot.park()
        if slot.default_proxy is not None:
            slot.default_proxy.close()
            slot.default_proxy = None

    @contextlib.contextmanager
    def checkout(self) -> Iterator[Slot]:
        """This thread's slot with a live browser, for one check."""
        with self._free:
            slot = self.slot()
            try:
                slot.ready()
                yield slot
            finally:
                slot.park()

    def after_check(self, slot: Slot, *, troubled: bool) -> str:
        """Count the check and retire the browser when it is due; the reason, "" when kept."""
        slot.checks += 1
        reason = ""
        if troubled:
            reason = "troubled"
        elif not _alive(slot.pid):
            reason = "crashed"
        elif slot.checks >= settings.SITECARE_BROWSER_RECYCLE_CHECKS:
            reason = "checks"
        elif slot.memory_mb() > settings.SITECARE_BROWSER_MEMORY_MB:
            reason = "memory"
        if reason:
            logger.info("browser %s recycled after %s checks: %s", slot.pid, slot.checks, reason)
            slot.retire()
        return reason


_POOL: BrowserPool | None = None
_POOL_LOCK = threading.Lock()


def release_thread_browser() -> None:
    """Close this thread's browser and Playwright driver, if it has any: for a thread that
    ends after its check (a trial's), whose slot no later check would ever use again."""
    if _POOL is not None and getattr(_POOL._local, "slot", None) is not None:
        _POOL.close()


def pool() -> BrowserPool:
    """The process's pool (sized by ``SITECARE_BROWSER_POOL_SIZE`` when first used)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = BrowserPool(settings.SITECARE_BROWSER_POOL_SIZE)
        return _POOL


# --- one machine, one speed measurement -------------------------------------------------------


@contextlib.contextmanager
def machine_lock(*, exclusive: bool) -> Iterator[None]:
    """Shared for a check, exclusive for a speed measurement, across this machine's processes.

    1. Pass the turnstile: an exclusive waiter holds it, so new shared holders queue behind it.
    2. Take the main lock (``flock``), shared or exclusive; an exclusive one keeps the
       turnstile until it is done.
    """
    directory = Path(settings.VAR_DIR)
    turnstile = _open_lock_file(directory / "browser.turnstile")
    main = _open_lock_file(directory / "browser.lock")
    try:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if exclusive:
            fcntl.flock(main, fcntl.LOCK_EX)
        else:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
            fcntl.flock(main, fcntl.LOCK_SH)
        yield
    finally:
        os.close(main)  # closing releases the locks
        os.close(turnstile)


def _open_lock_file(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
