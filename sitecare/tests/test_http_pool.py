"""The outbound client's keep-alive pool against a raw loopback server: reuse, what ends it
(Connection: close, HTTP/1.0, idle time, another allowlist), the retry of a dead pooled
connection, the connection limit, and cancellation leaving nothing open.

Both event loops run the client: asyncio's selector loop (where the tripwire watches every
connect) and uvloop (the engine's loop, which awaits connects through its own path).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Coroutine
from typing import Any

import pytest
import uvloop

from monitoring.tests.loopback import NetLog, arun, free_port, install_tripwire
from sitecare.lib.http import FetchError, FetchFailure, OutboundClient
from sitecare.tests.http_servers import Route, ScriptedServer, response

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
JUST_ONE = (ipaddress.ip_network("127.0.0.1/32"),)
KEEP = Route(response("200 OK", "Content-Length: 2", body=b"ok"))


@pytest.fixture(autouse=True)
def netlog(monkeypatch: pytest.MonkeyPatch) -> NetLog:
    """Every connect on the selector loop stays on loopback (and is recorded)."""
    return install_tripwire(monkeypatch)


def run_on(loop: str, coro: Coroutine[Any, Any, Any]) -> Any:
    return arun(coro) if loop == "selector" else uvloop.run(coro)


LOOPS = pytest.mark.parametrize("loop", ["selector", "uvloop"])


async def get(client: OutboundClient, url: str, allowlist=LOOPBACK, **options):
    return await client.fetch(url, allowlist=allowlist, timeout_s=3, **options)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# --- reuse and what ends it -----------------------------------------------------------------


@LOOPS
def test_it_reuses_a_keep_alive_connection_and_times_only_the_fresh_connect(loop):
    async def scenario():
        async with ScriptedServer({"/": KEEP}) as server, OutboundClient() as client:
            first = await get(client, server.url())
            second = await get(client, server.url())
            return first, second, server.connections, client.pool.idle_count()

    first, second, connections, idle = run_on(loop, scenario())
    assert (first.body, second.body) == (b"ok", b"ok")
    assert connections == 1 and idle == 1
    assert first.timing.connect_ms is not None
    assert second.timing.connect_ms is None and second.timing.ttfb_ms is not None


def test_it_follows_a_redirect_on_the_same_kept_connection():
    routes = {
        "/old": Route(response("302 Found", "Location: /new", "Content-Length: 0")),
        "/new": KEEP,
    }

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient() as client:
            return await get(client, server.url("/old")), server.connections

    got, connections = arun(scenario())
    assert (got.status, got.redirects, got.url.endswith("/new")) == (200, 1, True)
    assert connections == 1


def test_it_follows_a_redirect_without_waiting_for_its_body():
    """The redirect's body comes late: the next hop does not wait for it, and the
    connection that still owes it is not reused."""
    late_body = [response("302 Found", "Location: /new", "Content-Length: 4"), b"late"]
    routes = {"/old": Route(late_body), "/new": KEEP}

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient() as client:
            return await get(client, server.url("/old")), server.connections

    got, connections = arun(scenario())
    assert (got.status, got.body) == (200, b"ok")
    assert connections == 2


@pytest.mark.parametrize(
    "reply",
    [
        response("200 OK", "Content-Length: 2", "Connection: close", body=b"ok"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
    ],
    ids=["connection-close", "http-1.0"],
)
def test_it_never_reuses_a_connection_the_server_said_it_closes(reply):
    """The server leaves the socket open: only the client's respect of the header counts."""

    async def scenario():
        async with ScriptedServer({"/": Route(reply)}) as server, OutboundClient() as client:
            await get(client, server.url())
            await get(client, server.url())
            await server.wait_for(lambda: server.hung_up_by_client == 2)
            return server.connections, client.pool.open_count

    connections, still_open = arun(scenario())
    assert connections == 2
    assert still_open == 0


def test_it_never_reuses_a_connection_under_another_allowlist():
    async def scenario():
        async with ScriptedServer({"/": KEEP}) as server, OutboundClient() as client:
            await get(client, server.url(), LOOPBACK)
            await get(client, server.url(), JUST_ONE)  # admits the same address: still apart
            await get(client, server.url(), LOOPBACK)
            await get(client, server.url(), list(reversed(LOOPBACK)))  # the same policy
            return server.connections

    assert arun(scenario()) == 2


def test_it_drops_a_pooled_connection_the_server_closes_while_idle():
    routes = {"/": Route(response("200 OK", "Content-Length: 2", body=b"ok"), close=True)}

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient() as client:
            await get(client, server.url())  # nothing said the connection would close
            await server.wait_for(lambda: client.pool.open_count == 0)
            second = await get(client, server.url())
            return second, server.connections

    second, connections = arun(scenario())
    assert second.body == b"ok" and connections == 2


def test_it_closes_connections_idle_for_longer_than_the_pool_keeps_them():
    async def scenario():
        async with ScriptedServer({"/": KEEP}) as server, OutboundClient() as client:
            client.pool.idle_seconds = 0.1
            await get(client, server.url())
            await server.wait_for(lambda: server.hung_up_by_client == 1)
            return client.pool.open_count, client.pool.idle_count()

    assert arun(scenario()) == (0, 0)


# --- a pooled connection found dead -----------------------------------------------------------


@LOOPS
def test_it_retries_a_request_once_when_its_pooled_connection_turns_out_dead(loop):
    """The server hangs up just as the client reuses the connection (its keep-alive timeout):
    the request goes again on a fresh connection, and the caller sees only the answer."""
    routes = {"/": Route(KEEP.reply, drop_when_reused=True)}

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient() as client:
            await get(client, server.url())
            second = await get(client, server.url())
            return second, server.connections, len(server.requests)

    second, connections, requests = run_on(loop, scenario())
    assert second.status == 200 and second.body == b"ok"
    assert second.timing.connect_ms is not None  # the retry's fresh connect
    assert (connections, requests) == (2, 3)


def test_it_does_not_retry_a_post_on_a_dead_pooled_connection():
    routes = {"/": Route(KEEP.reply, drop_when_reused=True)}

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient() as client:
            await get(client, server.url(), method="POST", body=b"x=1")
            with pytest.raises(FetchError) as caught:
                await get(client, server.url(), method="POST", body=b"x=1")
            return caught.value, server.connections

    error, connections = arun(scenario())
    assert error.failure == FetchFailure.CONNECTION_RESET
    assert connections == 1


# --- the limit ----------------------------------------------------------------------------------


def test_it_keeps_open_connections_within_the_limit():
    slow = Route([response("200 OK", "Content-Length: 2"), b"ok"], close=True)

    async def scenario():
        async with (
            ScriptedServer({"/": slow}) as server,
            OutboundClient(connection_limit=1) as client,
        ):
            got = await asyncio.gather(*(get(client, server.url()) for _ in range(4)))
            return got, server.connections, server.max_open

    got, connections, max_open = arun(scenario())
    assert [g.body for g in got] == [b"ok"] * 4
    assert connections == 4 and max_open == 1


def test_it_closes_an_idle_connection_to_make_room_at_the_limit():
    routes = {"/a": KEEP, "/b": KEEP}

    async def scenario():
        async with (
            ScriptedServer(routes) as one,
            ScriptedServer(routes) as two,
            OutboundClient(connection_limit=1) as client,
        ):
            await get(client, one.url("/a"))  # kept idle
            await get(client, two.url("/b"))  # another host: the idle one gives way
            await one.wait_for(lambda: one.hung_up_by_client == 1)
            return client.pool.open_count

    assert arun(scenario()) == 1


def test_it_gives_back_the_place_of_a_request_that_timed_out_waiting_for_one():
    routes = {"/hang": Route(hang=True), "/": KEEP}

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient(connection_limit=1) as client:
            hanging = asyncio.create_task(get(client, server.url("/hang")))
            await server.wait_for(lambda: len(server.requests) == 1)
            with pytest.raises(FetchError) as caught:
                await client.fetch(server.url(), allowlist=LOOPBACK, timeout_s=0.2)
            hanging.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hanging
            after = await get(client, server.url())
            return caught.value, after, client.pool.open_count

    waited, after, open_count = arun(scenario())
    assert waited.failure == FetchFailure.TIMEOUT and waited.phase == "connect"
    assert after.body == b"ok"
    assert open_count == 1  # the kept connection of the last request, nothing leaked


# --- cancellation and timeouts -------------------------------------------------------------------


@LOOPS
def test_it_closes_the_socket_when_the_check_is_cancelled(loop):
    async def scenario():
        async with ScriptedServer({"/": Route(hang=True)}) as server, OutboundClient() as client:
            before = open_fds()
            task = asyncio.create_task(get(client, server.url()))
            await server.wait_for(lambda: len(server.requests) == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await server.wait_for(lambda: server.hung_up_by_client == 1)
            await asyncio.sleep(0.05)
            return before, open_fds(), client.pool.open_count

    before, after, still_open = run_on(loop, scenario())
    assert after == before
    assert still_open == 0


def test_it_closes_the_socket_at_the_deadline_and_names_the_phase():
    async def scenario():
        async with ScriptedServer({"/": Route(hang=True)}) as server, OutboundClient() as client:
            with pytest.raises(FetchError) as caught:
                await client.fetch(server.url(), allowlist=LOOPBACK, timeout_s=0.3)
            await server.wait_for(lambda: server.hung_up_by_client == 1)
            return caught.value, client.pool.open_count

    error, still_open = arun(scenario())
    assert error.failure == FetchFailure.TIMEOUT and error.phase == "wait"
    assert still_open == 0


@LOOPS
def test_it_classifies_a_closed_port_as_refused_on_either_loop(loop):
    async def scenario():
        async with OutboundClient() as client:
            with pytest.raises(FetchError) as caught:
                await get(client, f"http://127.0.0.1:{free_port()}/")
            return caught.value, client.pool.open_count

    error, still_open = run_on(loop, scenario())
    assert error.failure == FetchFailure.CONNECTION_REFUSED
    assert error.phase == "connect"
    assert still_open == 0
