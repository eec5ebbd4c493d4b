"""What /proc says about a process (Linux): whether it runs, its parent, its start time.

One reader for the lease holders' identity (``jobs.leases``) and the tests that follow
processes. ``/proc/PID/stat`` holds the command name in parentheses (it may contain spaces and
parentheses), so fields are counted after its last ``)``: there the state is the first, the
parent pid the second and the start time (clock ticks after boot) the twentieth.
"""

from __future__ import annotations

from pathlib import Path


class _Unreadable(Exception):
    """/proc exists but will not say (hidepid, another namespace's view)."""


def _fields(pid: int) -> list[str] | None:
    """The stat fields after the command name; None when no such process exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Unreadable from exc
    return stat.rsplit(")", 1)[1].split()


def is_running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        fields = _fields(pid)
    except _Unreadable:
        return True
    return fields is not None and fields[0] != "Z"


def parent_pid(pid: int) -> int | None:
    try:
        fields = _fields(pid)
    except _Unreadable:
        return None
    return int(fields[1]) if fields else None


def process_start_time(pid: int) -> str | None:
    """The process's start time in clock ticks after boot; "" when it is gone (or a zombie),
    None when /proc cannot tell."""
    try:
        fields = _fields(pid)
    except _Unreadable:
        return None
    if fields is None or fields[0] == "Z" or len(fields) < 20:
        return ""
    return fields[19]


def _all_parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := parent_pid(int(entry.name))) is not None:
            parents[int(entry.name)] = parent
    return parents


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    return sorted(child for child, parent in _all_parents().items() if parent == pid)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``."""
    parents = _all_parents()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
