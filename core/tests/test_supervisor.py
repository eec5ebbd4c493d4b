"""The supervisor behind ``sitecare run``, driven with tiny Python children."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.supervisor import (
    Child,
    ChildSpec,
    Output,
    Policy,
    ReadyCheck,
    backoff_delay,
    handle_one_exit,
    handle_one_start,
    handle_one_tick,
    start_child,
    stop_children,
)
from sitecare.lib.procinfo import children_of, is_running

ROOT = Path(__file__).resolve().parents[2]
FAST = Policy(backoff_base=0.05, backoff_cap=0.2, stable_after=5.0, grace=1.0, tick=0.05)


def python(code: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-c", textwrap.dedent(code), *args)


SLEEPER = """
import os, sys, time
from pathlib import Path
Path(sys.argv[1]).write_text(str(os.getpid()))
print("ready", flush=True)
time.sleep(60)
"""

STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""

PARENT_OF_SLEEPER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("ready", flush=True)
time.sleep(60)
"""


def is_gone(pid: int) -> bool:
    """True when the process no longer runs (a zombie waiting for init counts as gone)."""
    return not is_running(pid)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def output():
    buffer = io.StringIO()
    return buffer, Output(buffer)


@pytest.fixture
def children():
    """Children a test starts; whatever a failing test leaves running is killed."""
    started: list[Child] = []
    yield started
    for child in started:
        if child.process is not None and child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


def test_it_doubles_the_backoff_up_to_the_cap():
    policy = Policy(backoff_base=1.0, backoff_cap=30.0)
    assert [backoff_delay(n, policy) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_it_restarts_a_crashing_child_with_backoff(output, children):
    buffer, out = output
    child = Child(ChildSpec("crasher", python("print('boom'); raise SystemExit(3)")))
    children.append(child)
    start_child(child, now=0.0, output=out)
    assert child.process is not None
    child.process.wait()
    assert handle_one_exit(child, now=0.1, policy=FAST, output=out)
    assert child.next_start_at == pytest.approx(0.15)
    assert not handle_one_start(child, now=0.12, policy=FAST, output=out)  # still backing off
    assert handle_one_start(child, now=0.16, policy=FAST, output=out)
    child.process.wait()
    handle_one_exit(child, now=0.2, policy=FAST, output=out)
    assert child.next_start_at == pytest.approx(0.3)  # second quick exit: twice the wait
    wait_for(lambda: "boom" in buffer.getvalue())
    log = buffer.getvalue()
    assert "crasher      | exited with code 3" in log
    assert "crasher      | restarted" in log
    assert "crasher      | boom" in log


def test_it_starts_the_backoff_afresh_after_a_long_run(output, children):
    _buffer, out = output
    child = Child(ChildSpec("crasher", python("raise SystemExit(1)")), quick_exits=4)
    children.append(child)
    start_child(child, now=0.0, output=out)
    assert child.process is not None
    child.process.wait()
    handle_one_exit(child, now=FAST.stable_after + 1, policy=FAST, output=out)
    assert child.quick_exits == 1
    assert child.next_start_at == pytest.approx(FAST.stable_after + 1 + FAST.backoff_base)


def test_it_keeps_a_crashing_child_coming_back_in_the_loop(output, children):
    buffer, out = output
    child = Child(ChildSpec("crasher", python("raise SystemExit(2)")))
    children.append(child)
    deadline = time.monotonic() + 10
    while child.starts < 3 and time.monotonic() < deadline:
        handle_one_tick([child], time.monotonic(), FAST, out)
        time.sleep(0.01)
    assert child.starts >= 3
    assert buffer.getvalue().count("exited with code 2") >= 2


def test_it_stops_children_with_sigterm_then_sigkill_after_the_grace(output, children, tmp_path):
    buffer, out = output
    polite = Child(ChildSpec("polite", python(SLEEPER, str(tmp_path / "polite.pid"))))
    stubborn = Child(ChildSpec("stubborn", python(STUBBORN)))
    children.extend([polite, stubborn])
    for child in children:
        start_child(child, now=0.0, output=out)
    wait_for(lambda: buffer.getvalue().count("| ready") == 2)
    processes = [polite.process, stubborn.process]
    assert processes[0] is not None and processes[1] is not None
    started = time.monotonic()
    stop_children(children, Policy(grace=0.5), out)
    assert time.monotonic() - started < 5
    assert processes[0].returncode == -signal.SIGTERM
    assert processes[1].returncode == -signal.SIGKILL
    assert "stubborn     | killed after the grace period" in buffer.getvalue()


def test_it_stops_a_childs_own_children_too(output, children):
    buffer, out = output
    parent = Child(ChildSpec("parent", python(PARENT_OF_SLEEPER)))
    children.append(parent)
    start_child(parent, now=0.0, output=out)
    wait_for(lambda: "| ready" in buffer.getvalue())
    assert parent.process is not None
    grandchildren = children_of(parent.process.pid)
    assert grandchildren
    stop_children(children, FAST, out)
    wait_for(lambda: all(is_gone(pid) for pid in grandchildren), timeout=5)


RUNNER = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitecare.settings")
django.setup()
from core.supervisor import ChildSpec, Policy, run_supervised
child = sys.argv[1]
paths = sys.argv[2:]
specs = [ChildSpec(f"sleeper{i}", (sys.executable, "-c", child, p)) for i, p in enumerate(paths)]
sys.exit(run_supervised(specs, Policy(grace=2.0, tick=0.05)))
"""


@contextmanager
def supervised_sleepers(
    tmp_path: Path, **output: Any
) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """``run_supervised`` in a process of its own over two sleepers: yields that process and
    the sleepers' pids once both run; whatever is left of them is killed afterwards."""
    pid_files = [tmp_path / "a.pid", tmp_path / "b.pid"]
    env = {**os.environ, "SITECARE_VAR_DIR": str(tmp_path / "var")}
    supervisor = subprocess.Popen(
        [sys.executable, "-c", RUNNER, textwrap.dedent(SLEEPER), *map(str, pid_files)],
        cwd=ROOT,
        env=env,
        text=True,
        start_new_session=True,
        **output,
    )
    pids: list[int] = []
    try:
        wait_for(lambda: all(p.exists() and p.read_text() for p in pid_files), timeout=30)
        pids.extend(int(p.read_text()) for p in pid_files)
        yield supervisor, pids
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for pid in pids:
            if not is_gone(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_it_stops_every_child_and_exits_0_on_a_stop_signal(tmp_path, stop_signal):
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    with supervised_sleepers(tmp_path, **output) as (supervisor, pids):
        supervisor.send_signal(stop_signal)
        log, _err = supervisor.communicate(timeout=20)
        assert supervisor.returncode == 0, log
        assert all(is_gone(pid) for pid in pids)
        assert "sleeper0     | stopping" in log


def test_it_takes_its_children_down_when_it_is_killed(tmp_path):
    """SIGKILL reaches no handler: the kernel must end the children (PR_SET_PDEATHSIG)."""
    output = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with supervised_sleepers(tmp_path, **output) as (supervisor, pids):
        supervisor.kill()
        supervisor.wait()
        wait_for(lambda: all(is_gone(pid) for pid in pids), timeout=10)


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def test_it_announces_the_url_once_the_web_server_answers(output):
    buffer, out = output
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    port = server.server_address[1]
    check = ReadyCheck("127.0.0.1", port, "/login/", ["open http://127.0.0.1/"], out)
    server.server_close()
    check()  # nothing listens yet
    assert not check.done and buffer.getvalue() == ""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check()
        check()
    finally:
        server.shutdown()
        server.server_close()
    assert check.done
    assert buffer.getvalue().count("open http://127.0.0.1/") == 1
