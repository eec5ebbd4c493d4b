"""The network policy (SSRF guard) for Apprise sends, enforced where sockets connect and send.

Apprise plugins do not go through sitecare/lib/http: they use requests, smtplib or bare
sockets (the rsyslog plugin calls ``sendto`` itself, and Apprise's own HTTP helper resolves
names on a thread pool), so filtering name resolution is not enough. Inside
:func:`network_policy`, every ``connect``, ``connect_ex``, ``sendto`` and ``sendmsg`` made on a
Python socket (``socket.create_connection``, ``ssl`` and every library built on them included)
is checked first against the agency's policy, the same ``netpolicy.is_address_allowed`` the
checks use:

1. An address that is not an IP (a Unix socket path, another family) is refused.
2. A host name is resolved here and the call goes to the first admitted address, so what is
   checked is what is connected to (a name cannot resolve to another address in between).
3. A refused call raises ``PolicyRefusal`` (a ``PermissionError``; ``connect_ex`` returns
   ``EACCES``) and nothing leaves the machine. Its message names the host when the address
   came from a name (resolved here or by ``getaddrinfo`` under the policy), never the address
   the name resolved to; the address goes to the server's log.
4. ``requests`` ignores the environment (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``,
   ``.netrc``, ``REQUESTS_CA_BUNDLE``): a proxy would carry the request to a target the guard
   never sees, only the proxy's address.

The policy is a context variable, not a thread-local: Apprise hands its sends to worker threads
(``async_notify``, several services at once) with a copy of the caller's context, so they stay
under the policy. Code that runs outside a policy block (the web server's requests, the probe
engine) passes straight through. Which Apprise schemes may be used at all, because every path
of theirs goes through these calls, is decided in :mod:`incidents.channel_schemes`.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import requests

from sitecare.lib.netpolicy import IPNetwork, blocked_message, is_address_allowed

logger = logging.getLogger("sitecare.alerts")

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

    def __init__(self, address: str, host: str | None = None) -> None:
        super().__init__(errno.EACCES, blocked_message(address, host))
        self.address = address
        self.host = host


@dataclass
class Refusal:
    """What the guard refused during a ``network_policy`` block: the first refused
    ``address``, and the ``host`` name it came from when it came from one."""

    address: str | None = None
    host: str | None = None

    @property
    def message(self) -> str:
        return blocked_message(self.address, self.host) if self.address else ""


@dataclass(frozen=True)
class _Policy:
    allowlist: tuple[IPNetwork, ...]
    refusal: Refusal
    # The name each address was resolved from under this policy, so a refusal names the name.
    names: dict[str, str] = field(default_factory=dict)


_active: ContextVar[_Policy | None] = ContextVar("sitecare_network_policy", default=None)


def _refuse(policy: _Policy, address: str, host: str | None) -> PolicyRefusal:
    if policy.refusal.address is None:
        policy.refusal.address, policy.refusal.host = address, host
    logger.warning(
        "alert delivery: the network policy refused %s%s",
        address,
        f" (the address of {host})" if host else "",
    )
    return PolicyRefusal(address, host)


def _admitted(sock: socket.socket, address: Any) -> Any:
    """The address to use instead of ``address``, admitted by the policy; else PolicyRefusal.

    Outside a policy block the address is returned unchanged.
    """
    policy = _active.get()
    if policy is None:
        return address
    if sock.family not in _INET or not isinstance(address, tuple) or len(address) < 2:
        raise _refuse(policy, str(address), None)
    host, port, *rest = address
    candidates = _addresses(sock, host, port)
    for candidate in candidates:
        if is_address_allowed(candidate.split("%", 1)[0], policy.allowlist):
            return (candidate, port, *rest)
    name = None if candidates[0] == str(host) else str(host)
    raise _refuse(policy, candidates[0], name or policy.names.get(candidates[0]))


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


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """``socket.getaddrinfo``, noting under a policy which name each address came from."""
    infos = _real_getaddrinfo(host, *args, **kwargs)
    policy = _active.get()
    if policy is not None and isinstance(host, str | bytes):
        name = host.decode() if isinstance(host, bytes) else host
        for info in infos:
            address = str(info[4][0])
            if address != name:
                policy.names.setdefault(address, name)
    return infos


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


def _trust_env(session: requests.Session) -> bool:
    """``Session.trust_env``: False under a policy, else what was set (True by default)."""
    if _active.get() is not None:
        return False
    return bool(session.__dict__.get("_sitecare_trust_env", True))


def _set_trust_env(session: requests.Session, value: bool) -> None:
    session.__dict__["_sitecare_trust_env"] = value


# requests reads proxies and .netrc credentials from the environment when a session's
# ``trust_env`` is true, which ``Session.__init__`` sets on every session (and the module-level
# ``requests.post`` Apprise calls makes one each time). As a property of the class it is
# decided per call, by the context it runs in: False only inside a policy block.
_TRUST_ENV = property(_trust_env, _set_trust_env)


def _install() -> None:
    """Put the guards in place once; outside a policy they are pass-throughs."""
    with _install_lock:
        for name, guard in _GUARDS.items():
            if getattr(socket.socket, name) is not guard:
                setattr(socket.socket, name, guard)
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo
        if requests.Session.__dict__.get("trust_env") is not _TRUST_ENV:
            requests.Session.trust_env = _TRUST_ENV  # type: ignore[assignment]


@contextmanager
def network_policy(allowlist: Sequence[IPNetwork]) -> Iterator[Refusal]:
    """Within the block, this context connects and sends only to addresses the policy admits.

    Yields a record whose ``address`` names the first refused address (None while none was).
    """
    _install()
    refusal = Refusal()
    token = _active.set(_Policy(tuple(allowlist), refusal))
    try:
        yield refusal
    finally:
        _active.reset(token)
