"""The heartbeat endpoint: jobs ping a secret URL; 200 only once the ping is committed.

No login and no CSRF token (cron jobs and scripts call it with curl or wget). An unknown token
is a 404. Overload is said, never hidden: a token pinging too fast gets 429, a full process or
a busy database 503, each with Retry-After, and nothing is answered 200 that was not stored.

Pings take turns through :mod:`monitoring.ping_gate`: a ping waits briefly for its turn and
for the database's write lock, and after a refusal pings are answered 503 at once for a while,
so a lock held elsewhere never occupies the web threads people's pages need. Refusals are
logged one line per kind of failure per minute, with a count (``sitecare.lib.logthrottle``).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, OperationalError
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from monitoring.heartbeats import (
    MAX_BODY_BYTES,
    Ping,
    RateLimiter,
    TokenIndex,
    record_ping,
)
from monitoring.models import PingKind
from monitoring.ping_gate import LOCK_WAIT_S, Outcome, PingGate
from sitecare.lib.client_address import client_address
from sitecare.lib.dbwait import lock_wait
from sitecare.lib.logthrottle import ThrottledLog

logger = logging.getLogger("sitecare.heartbeat")

RETRY_AFTER_FAST_S = 1
MAX_EXIT_CODE = 255

TOKENS = TokenIndex()
RATE = RateLimiter()
GATE = PingGate()
REFUSALS = ThrottledLog(logger, "storing a ping")


def _text(status: int, body: str, retry_after: int | None = None) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
        # An overload answer is expected, and counted by REFUSALS: Django's request log
        # would add a line per ping (django.utils.log.log_response skips logged responses).
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _received(request: HttpRequest, kind: str, exit_code: int | None) -> Ping:
    """The ping as sent: its signal, the body's first KiB as text, who sent it (the peer, or
    behind a trusted proxy the address it forwarded: ``sitecare.lib.client_address``).

    Raises ``UnreadablePostError`` when the client drops the connection mid-body.
    """
    body = request.read(MAX_BODY_BYTES) if request.method == "POST" else b""
    return Ping(
        kind=kind,
        exit_code=exit_code,
        # NUL is no character of a log line, and PostgreSQL refuses it in text.
        body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        remote_addr=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "") or "",
    )


def _store(token: str, kind: str, exit_code: int | None, request: HttpRequest) -> HttpResponse:
    """Receive one ping.

    1. Find the monitor by token (404 if none); refuse a token pinging too fast (429).
    2. Read the body first (400 if the client drops it): a slow sender holds only its own
       thread, never the turn other pings wait for.
    3. Take a slot and a turn to write (:mod:`monitoring.ping_gate`): 503 at once while the
       database refuses writes, or when neither comes soon.
    4. Store the ping in a transaction, waiting briefly for the lock; answer 200 only after
       the commit, 503 on any database error (locked, busy, disk full): the job may retry,
       nothing is lost unseen.
    """
    monitor_id = TOKENS.find(token)
    if monitor_id is None:
        return _text(404, "Not found")
    if not RATE.allow(token):
        return _text(429, "Too many pings", RETRY_AFTER_FAST_S)
    try:
        received = _received(request, kind, exit_code)
    except UnreadablePostError:
        return _text(400, "The request body could not be read")
    if not GATE.enter():
        return _text(503, "Busy", GATE.retry_after())
    outcome, stored = Outcome.OTHER, False
    try:
        with lock_wait(LOCK_WAIT_S):
            stored = record_ping(monitor_id, token, received)
        outcome = Outcome.STORED
    except DatabaseError as exc:
        # Locked, busy, disk full: the database refuses writes. Anything else (a bad value)
        # says nothing about the others' pings.
        if isinstance(exc, OperationalError):
            outcome = Outcome.REFUSED
        REFUSALS.failure(exc)
    finally:
        GATE.leave(outcome)
    if outcome is not Outcome.STORED:
        return _text(503, "Busy", GATE.retry_after())
    if not stored:
        TOKENS.forget(token)
        return _text(404, "Not found")
    return _text(200, "OK")


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping(request: HttpRequest, token: str) -> HttpResponse:
    """The job succeeded (or just checks in)."""
    return _store(token, PingKind.SUCCESS, None, request)


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping_start(request: HttpRequest, token: str) -> HttpResponse:
    """The job started (starts the ``max_runtime`` clock)."""
    return _store(token, PingKind.START, None, request)


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping_fail(request: HttpRequest, token: str) -> HttpResponse:
    """The job failed."""
    return _store(token, PingKind.FAIL, None, request)


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping_exit_code(request: HttpRequest, token: str, exit_code: int) -> HttpResponse:
    """The job ended with this exit status: 0 is success, anything else a failure."""
    if exit_code > MAX_EXIT_CODE:
        return _text(404, "Not found")
    kind = PingKind.SUCCESS if exit_code == 0 else PingKind.FAIL
    return _store(token, kind, exit_code, request)
