"""Chromium's network errors (``net::ERR_…``) as failure classes, for every browser kind.

Behind the guard proxy Chromium sees little of what went wrong upstream (a refused tunnel, an
empty reply): the kinds ask the session first (``BrowserSession.upstream_failure`` and the
blocked requests) and read Chromium's own code only when the proxy has nothing to say.
"""

from __future__ import annotations

import re

from monitoring.failures import FailureClass

NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
# Prefixes of Chromium's codes, first match wins.
NET_CLASSES: tuple[tuple[str, str], ...] = (
    ("ERR_NAME_", FailureClass.DNS_ERROR),
    ("ERR_CONNECTION_REFUSED", FailureClass.CONNECTION_REFUSED),
    ("ERR_CONNECTION_RESET", FailureClass.CONNECTION_RESET),
    ("ERR_CONNECTION_CLOSED", FailureClass.CONNECTION_RESET),
    ("ERR_EMPTY_RESPONSE", FailureClass.INVALID_RESPONSE),
    ("ERR_CERT_", FailureClass.TLS_ERROR),
    ("ERR_SSL_", FailureClass.TLS_ERROR),
    ("ERR_TIMED_OUT", FailureClass.NAVIGATION_TIMEOUT),
    ("ERR_CONNECTION_TIMED_OUT", FailureClass.NAVIGATION_TIMEOUT),
    ("ERR_TOO_MANY_REDIRECTS", FailureClass.TOO_MANY_REDIRECTS),
    ("ERR_BLOCKED_BY_", FailureClass.REQUEST_BLOCKED),
    # The proxy refused the tunnel and had no upstream failure to tell: the policy did.
    ("ERR_TUNNEL_CONNECTION_FAILED", FailureClass.BLOCKED_BY_POLICY),
    ("ERR_PROXY_CONNECTION_FAILED", FailureClass.BLOCKED_BY_POLICY),
)


def net_error_code(error: str) -> str | None:
    """Chromium's code in an error text (``ERR_CONNECTION_REFUSED``), or None."""
    match = NET_ERROR.search(error)
    return match.group(1) if match else None


def net_error_class(error: str, default: str) -> str:
    """The failure class of an error text naming a Chromium code; ``default`` otherwise."""
    code = net_error_code(error)
    if code is None:
        return default
    return next((cls for prefix, cls in NET_CLASSES if code.startswith(prefix)), default)
