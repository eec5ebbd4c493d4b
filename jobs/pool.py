"""Worker processes of one queue, as the runner sees them: hand out calls, read replies, kill.

Each worker (``jobs.worker``) runs in a session of its own, so killing its process group
(``killpg``, SIGKILL) also kills whatever it started, a hung Chromium included, even one that
ignores SIGTERM. It gets SIGTERM from the kernel when the runner dies (PR_SET_PDEATHSIG), and
then kills its own group. A killed or dead worker is replaced by a fresh one when a call
needs it. :class:`InlinePool` runs calls in this process instead, for tests that drive the
runner over pytest's in-memory database (invisible to other processes).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from core.supervisor import die_with_parent
from jobs.worker import run_call

# How long a new worker may take to load Django before it gets its first call anyway.
READY_SECONDS = 60.0


@dataclass(frozen=True)
class Reply:
    """What a worker said about a call: its value, or an error (the call raised, the worker
    died)."""

    ok: bool
    value: Any = None
    error: str = ""


@dataclass(eq=False)
class Worker:
    """One worker process: its pipe for calls, its pipe for replies and what it has read."""

    process: subprocess.Popen[bytes]
    reply_fd: int
    buffer: bytes = b""
    busy: bool = False
    replies: list[Reply] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid


class Pool(Protocol):
    size: int

    def start(self, call: str, args: Sequence[Any]) -> Any: ...

    def poll(self, wait: float) -> list[tuple[Any, Reply]]: ...

    def kill(self, handle: Any) -> None: ...

    def close(self) -> None: ...

    def busy(self) -> int: ...


class WorkerPool:
    """Up to ``size`` worker processes; :meth:`start` hands a call to an idle one."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.workers: list[Worker] = []

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.busy)

    def start(self, call: str, args: Sequence[Any]) -> Worker:
        """Hand a call to an idle worker (starting one if none is idle); returns it."""
        worker = next((w for w in self.workers if not w.busy), None) or self._spawn()
        line = json.dumps({"call": call, "args": list(args)}) + "\n"
        assert worker.process.stdin is not None  # stdin=PIPE
        try:
            worker.process.stdin.write(line.encode())
            worker.process.stdin.flush()
        except OSError:  # it died while idle: its reply is the error, read by poll()
            worker.replies.append(Reply(False, error="the worker process had ended"))
        worker.busy = True
        return worker

    def _spawn(self) -> Worker:
        read_fd, write_fd = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "jobs.worker", str(write_fd)],
                cwd=settings.BASE_DIR,
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=die_with_parent(os.getpid()),
            )
        finally:
            os.close(write_fd)
        worker = Worker(process, read_fd)
        self.workers.append(worker)
        self._wait_ready(worker)
        os.set_blocking(read_fd, False)
        return worker

    def _wait_ready(self, worker: Worker) -> None:
        """Wait until the new worker has loaded Django (its first line); a worker that dies
        or hangs first is left to the call: its reply will be the error."""
        ready, _, _ = select.select([worker.reply_fd], [], [], READY_SECONDS)
        if not ready:
            return
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(worker.reply_fd, 1)
            if not chunk:
                return
            line += chunk

    def poll(self, wait: float) -> list[tuple[Worker, Reply]]:
        """Wait up to ``wait`` seconds for replies of busy workers; each finished call once.

        A worker whose reply pipe closed without a reply died mid-call: its reply is an error
        and it is removed (a fresh one replaces it when needed).
        """
        busy = [w for w in self.workers if w.busy]
        done = [(w, w.replies.pop(0)) for w in busy if w.replies]
        if done or not busy:
            for worker, _reply in done:
                worker.busy = False
            return done
        ready, _, _ = select.select([w.reply_fd for w in busy], [], [], wait)
        for worker in busy:
            if worker.reply_fd in ready:
                self._read(worker)
        for worker in busy:
            if worker.replies:
                worker.busy = False
                done.append((worker, worker.replies.pop(0)))
        return done

    def _read(self, worker: Worker) -> None:
        try:
            chunk = os.read(worker.reply_fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            code = worker.process.wait()
            self._forget(worker)
            worker.replies.append(Reply(False, error=f"the worker process ended ({code})"))
            return
        worker.buffer += chunk
        while b"\n" in worker.buffer:
            line, worker.buffer = worker.buffer.split(b"\n", 1)
            data = json.loads(line)
            worker.replies.append(Reply(bool(data["ok"]), data.get("value"), data.get("error", "")))

    def kill(self, worker: Worker) -> None:
        """Kill the worker's whole process group (the worker and all it started) and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.process.wait()
        self._forget(worker)

    def _forget(self, worker: Worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        with contextlib.suppress(OSError):
            os.close(worker.reply_fd)
        if worker.process.stdin is not None:
            with contextlib.suppress(OSError):
                worker.process.stdin.close()

    def close(self) -> None:
        """End every worker: idle ones by closing their stdin, then the groups by SIGKILL."""
        for worker in list(self.workers):
            if worker.process.stdin is not None:
                with contextlib.suppress(OSError):
                    worker.process.stdin.close()
        for worker in list(self.workers):
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=2.0)
            self.kill(worker)


class InlinePool:
    """Runs each call at once in this process (tests over the in-memory database)."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._done: list[tuple[int, Reply]] = []
        self._next = 0

    def busy(self) -> int:
        return len(self._done)

    def start(self, call: str, args: Sequence[Any]) -> int:
        self._next += 1
        reply = run_call({"call": call, "args": list(args)})
        self._done.append(
            (self._next, Reply(reply["ok"], reply.get("value"), reply.get("error", "")))
        )
        return self._next

    def poll(self, wait: float) -> list[tuple[Any, Reply]]:
        done, self._done = self._done, []
        return list(done)

    def kill(self, handle: Any) -> None:
        self._done = [(h, r) for h, r in self._done if h != handle]

    def close(self) -> None:
        self._done = []
