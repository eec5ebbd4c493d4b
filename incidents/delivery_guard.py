"""The network policy (SSRF guard) for Apprise sends, which do not go through sitecare/lib/http.

Apprise plugins connect with requests, smtplib and friends; all of them resolve the host with
``socket.getaddrinfo`` and connect to what it returns. Inside :func:`network_policy` the
current thread's resolutions keep only the addresses the agency's policy admits (the same
``netpolicy.is_address_allowed`` the checks use), so the plugin can only connect to those:
the check holds at connect time, for every hop and redirect, without trusting a pre-flight
lookup. Other threads (the web server's, the probe engine's) are never affected.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sitecare.lib.netpolicy import IPNetwork, blocked_message, is_address_allowed

_local = threading.local()
_install_lock = threading.Lock()
_resolve = socket.getaddrinfo


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    results = _resolve(host, port, *args, **kwargs)
    allowlist: Sequence[IPNetwork] | None = getattr(_local, "allowlist", None)
    if allowlist is None:
        return results
    allowed = [r for r in results if is_address_allowed(str(r[4][0]), allowlist)]
    if not allowed and results:
        refused = str(results[0][4][0])
        _local.refused = refused
        raise socket.gaierror(socket.EAI_NONAME, blocked_message(refused))
    return allowed


def _install() -> None:
    """Put the filtering resolver in place once; outside a policy it is a plain pass-through."""
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


@contextmanager
def network_policy(allowlist: Sequence[IPNetwork]) -> Iterator[_Refusal]:
    """Within the block, this thread connects only to addresses the policy admits.

    Yields a record whose ``address`` names the first refused address (None if none was).
    """
    _install()
    refusal = _Refusal()
    _local.allowlist, _local.refused = tuple(allowlist), None
    try:
        yield refusal
    finally:
        refusal.address = _local.refused
        _local.allowlist, _local.refused = None, None


class _Refusal:
    """What the guard refused during a ``network_policy`` block (read after the block)."""

    address: str | None = None

    @property
    def message(self) -> str:
        return blocked_message(self.address) if self.address else ""
