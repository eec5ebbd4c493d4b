"""The failures of outbound HTTP requests: their classes, and the one message each shows.

Low-level errors (resolver, connect, TLS, the parser, a lost connection) are turned into a
:class:`FetchError` where they happen, since only there is it known what they mean; the
functions here make those errors, with the same words for the same failure everywhere.
"""

from __future__ import annotations

import errno
import ssl
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from sitecare.lib.messages import deferred as _

if TYPE_CHECKING:
    from sitecare.lib.http_timing import Timing


class FetchFailure(StrEnum):
    """Why an outbound request failed (same values as monitoring's FailureClass)."""

    DNS_ERROR = "dns_error"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"
    BODY_TOO_LARGE = "body_too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED_BY_POLICY = "blocked_by_policy"
    INVALID_RESPONSE = "invalid_response"


class FetchError(Exception):
    """An outbound request that failed, with its class and a short human message."""

    def __init__(self, failure: FetchFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message
        # Filled by fetch(): how far the exchange got, and where it stopped.
        self.timing: Timing | None = None
        self.phase: str | None = None


class ClosedBeforeResponse(FetchError):
    """The connection ended before the first byte of a response: a pooled connection that
    the server had already closed is retried once on a fresh one (idempotent methods)."""


# Where an exchange can stop; lazily translated (called when a message is made).
PHASE_LABELS: dict[str, Callable[[], str]] = {
    "dns": lambda: _("while resolving the name"),
    "connect": lambda: _("while connecting"),
    "tls": lambda: _("during the TLS handshake"),
    "wait": lambda: _("waiting for the response headers"),
    "body": lambda: _("while reading the body"),
}


def timeout_error(timeout_s: float, phase: str) -> FetchError:
    """The deadline of the whole exchange passed while in ``phase``."""
    if phase in PHASE_LABELS:
        message = _("No answer within %(seconds)s s (%(phase)s).") % {
            "seconds": timeout_s,
            "phase": PHASE_LABELS[phase](),
        }
    else:
        message = _("No answer within %(seconds)s s.") % {"seconds": timeout_s}
    return FetchError(FetchFailure.TIMEOUT, message)


def dns_error(host: str) -> FetchError:
    return FetchError(
        FetchFailure.DNS_ERROR, _("The name %(host)s does not resolve.") % {"host": host}
    )


def connect_error(exc: OSError, shown: str) -> FetchError:
    """A connect that failed (``shown`` is ``host:port``)."""
    if exc.errno == errno.ECONNRESET:
        return FetchError(FetchFailure.CONNECTION_RESET, _("The connection was reset."))
    if exc.errno == errno.ECONNREFUSED:
        return FetchError(
            FetchFailure.CONNECTION_REFUSED,
            _("%(host)s refused the connection.") % {"host": shown},
        )
    return FetchError(
        FetchFailure.CONNECTION_REFUSED,
        _("Cannot connect to %(host)s: %(error)s") % {"host": shown, "error": exc.strerror or exc},
    )


def tls_error(exc: BaseException) -> FetchError:
    """A TLS handshake that failed: a certificate refused, or the peer gone mid-handshake."""
    if isinstance(exc, ConnectionResetError) and not isinstance(exc, ssl.SSLError):
        return FetchError(FetchFailure.CONNECTION_RESET, _("The connection was reset."))
    return FetchError(FetchFailure.TLS_ERROR, _("TLS failed: %(error)s") % _err(exc))


def closed_before_response(exc: BaseException | None) -> ClosedBeforeResponse:
    if isinstance(exc, ConnectionResetError):
        return ClosedBeforeResponse(FetchFailure.CONNECTION_RESET, _("The connection was reset."))
    return ClosedBeforeResponse(
        FetchFailure.CONNECTION_RESET, _("The server closed the connection.")
    )


def closed_in_headers() -> FetchError:
    return FetchError(FetchFailure.CONNECTION_RESET, _("The server closed the connection."))


def cut_short() -> FetchError:
    """The connection ended (closed or reset) before the declared body was complete."""
    return FetchError(
        FetchFailure.CONNECTION_RESET, _("The connection broke off in the middle of the body.")
    )


def invalid_response(detail: object) -> FetchError:
    return FetchError(
        FetchFailure.INVALID_RESPONSE, _("Invalid response: %(error)s") % _err(detail)
    )


def invalid_address(detail: object) -> FetchError:
    return FetchError(FetchFailure.INVALID_RESPONSE, _("Invalid address: %(error)s") % _err(detail))


def body_too_large(cap: int) -> FetchError:
    return FetchError(
        FetchFailure.BODY_TOO_LARGE,
        _("The response body is larger than %(bytes)d bytes.") % {"bytes": cap},
    )


def unexpected_error(exc: BaseException) -> FetchError:
    """An error no stage claimed (an OS error writing, say): a reset if it says so."""
    if isinstance(exc, OSError) and exc.errno == errno.ECONNRESET:
        return FetchError(FetchFailure.CONNECTION_RESET, _("The connection was reset."))
    if isinstance(exc, ssl.SSLError):
        return tls_error(exc)
    return invalid_response(exc)


def _err(detail: object) -> dict[str, str]:
    text = str(detail) or type(detail).__name__
    return {"error": text[:200]}
