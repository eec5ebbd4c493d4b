"""The network policy (SSRF guard) for Apprise sends, enforced where sockets connect and send.

Apprise plugins do not go through sitecare/lib/http: they use requests, smtplib or bare
sockets (the rsyslog plugin calls ``sendto`` itself, and Apprise's own HTTP helper resolves
names on a thread pool), so filtering name resolution is not enough. Inside
:func:`network_policy`, every ``connect``, ``connect_ex``, ``sendto`` and ``sendmsg`` the
current thread makes on a Python socket (``socket.create_connection``, ``ssl`` and every
library built on them included) is checked first against the agency's policy, the same
``netpolicy.is_address_allowed`` the checks use:

1. An address that is not an IP (a Unix socket path, another family) is refused.
2. A host name is resolved here and the call goes to the first admitted address, so what is
   checked is what is connected to (a name cannot resolve to another address in between).
3. A refused call raises ``PolicyRefusal`` (a ``PermissionError``; ``connect_ex`` returns
   ``EACCES``) and nothing leaves the machine.

Other threads (the web server's, the probe engine's) pass straight through. Which Apprise
schemes may be used at all, because every path of theirs goes through these calls, is decided
in :mod:`incidents.channel_schemes`.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sitecare.lib.netpolicy import IPNetwork, blocked_message, is_address_allowed

_local = threading.local()
_install_lock = threading.Lock()
_INET = (socket.AF_INET, socket.AF_INET6)
# The unguarded methods: ``socket.socket`` inherits them from the C type, which is never patched.
_real_connect = socket.SocketType.connect
_real_connect_ex = socket.SocketType.connect_ex
_real_sendto = socket.SocketType.sendto
_real_sendmsg = socket.SocketType.sendmsg
_real_getaddrinfo = socket.getaddrinfo


class PolicyRefusal(PermissionError):
    """A connect or send the agency's network policy refused; nothing was sent."""

    def __init__(self, address: str) -> None:
        super().__init__(errno.EACCES, blocked_message(address))
        self.address = address


class Refusal:
    """What the guard refused during a ``network_policy`` block (``address``: the first)."""

    address: str | None = None

    @property
    def message(self) -> str:
        return blocked_message(self.address) if self.address else ""


def _active() -> tuple[tuple[IPNetwork, ...], Refusal] | None:
    return getattr(_local, "policy", None)


def _refuse(refusal: Refusal, address: str) -> PolicyRefusal:
    if refusal.address is None:
        refusal.address = address
    return PolicyRefusal(address)


def _admitted(sock: socket.socket, address: Any) -> Any:
    """The address to use instead of ``address``, admitted by the policy; else PolicyRefusal.

    Outside a policy block the address is returned unchanged.
    """
    active = _active()
    if active is None:
        return address
    allowlist, refusal = active
    if sock.family not in _INET or not isinstance(address, tuple) or len(address) < 2:
        raise _refuse(refusal, str(address))
    host, port, *rest = address
    candidates = _addresses(sock, host, port)
    for candidate in candidates:
        if is_address_allowed(candidate.split("%", 1)[0], allowlist):
            return (candidate, port, *rest)
    raise _refuse(refusal, candidates[0])


def _addresses(sock: socket.socket, host: Any, port: Any) -> list[str]:
    """The IP addresses a host means for this socket: itself if it is one, else resolved."""
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        pass
    else:
        return [str(host)]
    found = [
        str(info[4][0])
        for info in _real_getaddrinfo(host, port, sock.family, sock.type)
        if info[0] == sock.family
    ]
    if not found:  # what the C library would have said for this family
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return found


def _guarded_connect(sock: socket.socket, address: Any) -> None:
    _real_connect(sock, _admitted(sock, address))


def _guarded_connect_ex(sock: socket.socket, address: Any) -> int:
    try:
        target = _admitted(sock, address)
    except PolicyRefusal:
        return errno.EACCES
    return _real_connect_ex(sock, target)


def _guarded_sendto(sock: socket.socket, data: Any, *args: Any) -> int:
    if len(args) == 1:  # sendto(data, address)
        return _real_sendto(sock, data, _admitted(sock, args[0]))
    flags, address = args  # sendto(data, flags, address)
    return _real_sendto(sock, data, flags, _admitted(sock, address))


def _guarded_sendmsg(sock: socket.socket, buffers: Any, *args: Any) -> int:
    # sendmsg(buffers[, ancdata[, flags[, address]]]): only a given address needs a check.
    if len(args) >= 3 and args[2] is not None:
        args = (*args[:2], _admitted(sock, args[2]), *args[3:])
    return _real_sendmsg(sock, buffers, *args)


_GUARDS: dict[str, Callable[..., Any]] = {
    "connect": _guarded_connect,
    "connect_ex": _guarded_connect_ex,
    "sendto": _guarded_sendto,
    "sendmsg": _guarded_sendmsg,
}


def _install() -> None:
    """Put the guards on ``socket.socket`` once; outside a policy they are pass-throughs."""
    with _install_lock:
        for name, guard in _GUARDS.items():
            if getattr(socket.socket, name) is not guard:
                setattr(socket.socket, name, guard)


@contextmanager
def network_policy(allowlist: Sequence[IPNetwork]) -> Iterator[Refusal]:
    """Within the block, this thread connects and sends only to addresses the policy admits.

    Yields a record whose ``address`` names the first refused address (None while none was).
    """
    _install()
    refusal = Refusal()
    previous = _active()
    _local.policy = (tuple(allowlist), refusal)
    try:
        yield refusal
    finally:
        _local.policy = previous
