"""A small process supervisor: the process tree behind ``sitecare run``.

Each child runs in its own process group (so a terminal's Ctrl-C reaches only the supervisor,
which then stops the children in order), its output is prefixed with its name, and a child
that exits is restarted with a doubling backoff. A child dies with the supervisor: on Linux
the kernel sends it SIGTERM when the supervisor ends, however it ends (even by SIGKILL, which
no handler sees), so no orphaned engine or sender outlives ``sitecare run``. The loop is made
of small steps (:func:`handle_one_exit`, :func:`handle_one_start`, :func:`stop_children`) that
the tests call directly; :func:`run_supervised` wires them to SIGTERM/SIGINT.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, TextIO

from django.utils.translation import gettext as _

Clock = Callable[[], float]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@dataclass(frozen=True)
class ChildSpec:
    """What to run: a name for the log prefix, the command line and its environment."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Policy:
    """Restart and stop timings."""

    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    # A child that ran at least this long had a real life: its next backoff starts afresh.
    stable_after: float = 30.0
    # How long children get between SIGTERM and SIGKILL.
    grace: float = 10.0
    tick: float = 0.2


@dataclass
class Child:
    """A supervised child: its spec, its current process (None while waiting to restart)."""

    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    next_start_at: float = 0.0
    quick_exits: int = 0
    starts: int = 0
    pumps: list[threading.Thread] = field(default_factory=list)


class Output:
    """Lines from every child, prefixed with its name, written whole from any thread."""

    def __init__(self, stream: TextIO | None = None, width: int = 13) -> None:
        self._stream = stream
        self._width = width
        self._lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(f"{name:<{self._width}}| {text}\n")
            stream.flush()


def backoff_delay(quick_exits: int, policy: Policy) -> float:
    """Seconds before restarting a child after its n-th quick exit in a row: 1, 2, 4… capped."""
    return float(min(policy.backoff_cap, policy.backoff_base * 2 ** max(quick_exits - 1, 0)))


# prctl(2) option: the signal the kernel sends a process when its parent dies.
PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the supervisor (never after fork); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


_PRCTL = _prctl()


def die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """The code a child runs between fork and exec so that it gets SIGTERM when the
    supervisor dies, however it dies.

    1. Ask the kernel for SIGTERM on the parent's death (it survives exec).
    2. The parent may have died between fork and that call: then stop at once.
    Only ready-made objects are used: after fork, in a threaded parent, nothing may lock.
    """
    prctl = _PRCTL
    if prctl is None:
        return None

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


def start_child(child: Child, now: float, output: Output) -> None:
    """Start the child's process in a new session and pump its output to ``output``.

    The child is tied to this thread's life (PR_SET_PDEATHSIG fires when the thread that
    started it ends), so children are started only from the supervisor's main loop.
    """
    process = subprocess.Popen(
        child.spec.argv,
        env=dict(child.spec.env) if child.spec.env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # A new session is a new process group: the terminal's Ctrl-C does not reach the
        # child directly, and killpg() reaches the child's own children too (gunicorn workers).
        start_new_session=True,
        preexec_fn=die_with_parent(os.getpid()),
    )
    child.process = process
    child.started_at = now
    child.starts += 1
    assert process.stdout is not None  # set by stdout=PIPE
    pump = threading.Thread(
        target=pump_output,
        args=(child.spec.name, process.stdout, output),
        name=f"pump-{child.spec.name}",
        daemon=True,
    )
    pump.start()
    child.pumps = [p for p in child.pumps if p.is_alive()] + [pump]
    if child.starts == 1:
        message = _("started (pid %(pid)d)") % {"pid": process.pid}
    else:
        message = _("restarted (pid %(pid)d, restart %(count)d)") % {
            "pid": process.pid,
            "count": child.starts - 1,
        }
    output.line(child.spec.name, message)


def pump_output(name: str, stream: IO[bytes], output: Output) -> None:
    """Copy a child's output line by line until it closes its end."""
    with stream:
        for raw in iter(stream.readline, b""):
            output.line(name, raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send a signal to the child's whole process group (already gone: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def handle_one_exit(child: Child, now: float, policy: Policy, output: Output) -> bool:
    """Notice that a child exited and schedule its restart with backoff; False if it runs.

    1. Poll the process; still running (or not started) means nothing to do.
    2. Kill what is left of its process group: a worker outliving its master would hold
       the port the restarted child needs.
    3. Count quick exits in a row (a long run resets the count) and wait the backoff.
    """
    process = child.process
    if process is None or (code := process.poll()) is None:
        return False
    signal_group(process, signal.SIGKILL)
    ran = now - child.started_at
    child.quick_exits = 1 if ran >= policy.stable_after else child.quick_exits + 1
    delay = backoff_delay(child.quick_exits, policy)
    child.process = None
    child.next_start_at = now + delay
    output.line(
        child.spec.name,
        _("%(how)s after %(ran).1f s; restarting in %(delay).1f s")
        % {"how": describe_exit(code), "ran": ran, "delay": delay},
    )
    return True


def describe_exit(code: int) -> str:
    """``exited with code 1`` or ``killed by SIGKILL`` (Popen reports a signal as -N)."""
    if code >= 0:
        return _("exited with code %(code)d") % {"code": code}
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = str(-code)
    return _("killed by %(signal)s") % {"signal": name}


def handle_one_start(child: Child, now: float, policy: Policy, output: Output) -> bool:
    """Start a child that is not running once its backoff has passed; True if started."""
    if child.process is not None or now < child.next_start_at:
        return False
    try:
        start_child(child, now, output)
    except OSError as exc:  # e.g. the interpreter vanished: retry later, do not crash the tree
        child.quick_exits += 1
        child.next_start_at = now + backoff_delay(child.quick_exits, policy)
        output.line(child.spec.name, _("cannot start: %(error)s") % {"error": exc})
        return False
    return True


def handle_one_tick(children: Iterable[Child], now: float, policy: Policy, output: Output) -> None:
    for child in children:
        handle_one_exit(child, now, policy, output)
        handle_one_start(child, now, policy, output)


def stop_children(
    children: Sequence[Child], policy: Policy, output: Output, clock: Clock = time.monotonic
) -> None:
    """Stop every child: SIGTERM, wait up to the grace period, then SIGKILL.

    1. Send SIGTERM to each running child's process group.
    2. Wait for all of them until the grace period ends.
    3. SIGKILL the groups still running, and reap them.
    4. Let the output pumps drain what the children wrote last.
    """
    running = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in running:
        output.line(child.spec.name, _("stopping"))
        assert child.process is not None  # filtered above
        signal_group(child.process, signal.SIGTERM)
    deadline = clock() + policy.grace
    for child in running:
        _wait_or_kill(child, max(deadline - clock(), 0.0), output)
    for child in children:
        for pump in child.pumps:
            pump.join(timeout=1.0)
        child.process = None


def _wait_or_kill(child: Child, timeout: float, output: Output) -> None:
    process = child.process
    assert process is not None  # only running ones are waited for
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        code = process.wait()
        output.line(child.spec.name, _("killed after the grace period"))
        return
    # Leftovers of the group (grandchildren) must not outlive the tree.
    signal_group(process, signal.SIGKILL)
    output.line(child.spec.name, _("stopped (%(how)s)") % {"how": describe_exit(code)})


class ReadyCheck:
    """Announce, once, that the web server answers: probe a URL on each tick until it does."""

    def __init__(
        self, host: str, port: int, path: str, lines: Sequence[str], output: Output
    ) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.lines = list(lines)
        self.output = output
        self.done = False

    def __call__(self) -> None:
        if self.done or not self.answers():
            return
        self.done = True
        for text in self.lines:
            self.output.line("sitecare", text)

    def answers(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=1.0)
        try:
            connection.request("GET", self.path)
            return connection.getresponse().status < 500
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()


def supervise(
    children: Sequence[Child],
    stop: threading.Event,
    policy: Policy,
    output: Output,
    on_tick: Callable[[], None] | None = None,
    clock: Clock = time.monotonic,
) -> None:
    """Keep the children running until ``stop`` is set, then stop them all."""
    try:
        while not stop.is_set():
            handle_one_tick(children, clock(), policy, output)
            if on_tick is not None:
                on_tick()
            stop.wait(policy.tick)
    finally:
        stop_children(children, policy, output, clock)


def run_supervised(
    specs: Sequence[ChildSpec],
    policy: Policy | None = None,
    output: Output | None = None,
    on_tick: Callable[[], None] | None = None,
) -> int:
    """Run the children until SIGTERM, SIGINT or SIGHUP, stop them cleanly, return 0.

    Must run in the main thread: Python delivers signals there.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in STOP_SIGNALS}
    try:
        supervise(
            [Child(spec) for spec in specs],
            stop,
            policy or Policy(),
            output or Output(),
            on_tick,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
