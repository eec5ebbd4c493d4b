"""The outbound client's HTTP/1.1 on the wire, against a raw loopback server: framing
(Content-Length, chunked, end of connection), bodiless responses, content decoding and its
cap, headers, and what the client sends."""

from __future__ import annotations

import gzip
import ipaddress
import zlib

import pytest

from monitoring.tests.loopback import NetLog, arun, install_tripwire
from sitecare.lib.http import FetchedResponse, FetchError, FetchFailure, OutboundClient
from sitecare.tests.http_servers import Route, ScriptedServer, response

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
CAP = 64 * 1024


@pytest.fixture(autouse=True)
def netlog(monkeypatch: pytest.MonkeyPatch) -> NetLog:
    """Every connect stays on loopback (and is recorded)."""
    return install_tripwire(monkeypatch)


def fetch(routes: dict[str, Route], path: str = "/", **options):
    """One fetch of ``path`` from a server with these routes: (response or error, server)."""

    async def scenario():
        async with ScriptedServer(routes) as server, OutboundClient(max_body_bytes=CAP) as client:
            got: FetchedResponse | FetchError
            try:
                got = await client.fetch(
                    server.url(path), allowlist=LOOPBACK, timeout_s=3, **options
                )
            except FetchError as exc:
                got = exc
            return got, server

    return arun(scenario())


def ok(*fields: str, body: bytes = b"") -> Route:
    return Route(response("200 OK", *fields, body=body))


# --- framing -----------------------------------------------------------------------------


def test_it_reads_a_chunked_body_that_arrives_in_pieces():
    head = response("200 OK", "Transfer-Encoding: chunked", "Content-Type: text/plain")
    pieces = [head + b"5\r\nHello\r\n", b"7\r\n, world\r\n", b"0\r\nX-Trailer: t\r\n\r\n"]
    got, _server = fetch({"/": Route(pieces)})
    assert got.status == 200
    assert got.body == b"Hello, world"


def test_it_reads_a_body_delimited_by_the_end_of_an_http_1_0_connection():
    reply = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nold but fine"
    got, server = fetch({"/": Route(reply, close=True)})
    assert got.status == 200 and got.body == b"old but fine"
    assert server.connections == 1


def test_it_classifies_a_body_shorter_than_its_content_length_as_cut_short():
    got, _server = fetch(
        {"/": Route(response("200 OK", "Content-Length: 10", body=b"12345"), close=True)}
    )
    assert isinstance(got, FetchError)
    assert got.failure == FetchFailure.CONNECTION_RESET
    assert got.phase == "body"
    assert "middle of the body" in got.message


def test_it_skips_an_interim_100_continue():
    reply = b"HTTP/1.1 100 Continue\r\n\r\n" + response("200 OK", "Content-Length: 2", body=b"ok")
    got, _server = fetch({"/": Route(reply)})
    assert (got.status, got.body) == (200, b"ok")


def test_it_refuses_a_switch_to_another_protocol():
    reply = response("101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade")
    got, _server = fetch({"/": Route(reply)})
    assert isinstance(got, FetchError) and got.failure == FetchFailure.INVALID_RESPONSE


def test_it_refuses_response_headers_that_never_end():
    endless = response("200 OK", "X-Pad: " + "a" * 70_000, "Content-Length: 0")
    got, _server = fetch({"/": Route(endless)})
    assert isinstance(got, FetchError) and got.failure == FetchFailure.INVALID_RESPONSE
    assert "too large" in got.message


# --- bodiless responses ------------------------------------------------------------------------


def test_it_reads_no_body_for_head_whatever_the_content_length_says():
    got, _server = fetch({"/": ok("Content-Length: 5000")}, method="HEAD")
    assert got.status == 200 and got.body == b""
    assert got.headers["Content-Length"] == "5000"


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_it_expects_no_body_after_204_and_304_and_keeps_the_connection(status):
    """A 304 may name the resource's length; the next response on the connection must
    still be read from the right place."""

    async def scenario():
        routes = {
            "/empty": Route(response(status, "Content-Length: 100")),
            "/next": ok("Content-Length: 4", body=b"next"),
        }
        async with ScriptedServer(routes) as server, OutboundClient() as client:
            empty = await client.fetch(server.url("/empty"), allowlist=LOOPBACK, timeout_s=3)
            after = await client.fetch(server.url("/next"), allowlist=LOOPBACK, timeout_s=3)
            return empty, after, server.connections

    empty, after, connections = arun(scenario())
    assert empty.body == b"" and empty.status in (204, 304)
    assert after.body == b"next"
    assert connections == 1


# --- decoding and the cap -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw, as some servers send it
    ],
)
def test_it_decodes_gzip_and_deflate_bodies(encoding, encode):
    page = "Zażółć gęślą jaźń — koszyk".encode() * 200
    route = ok(
        f"Content-Encoding: {encoding}",
        "Content-Type: text/html; charset=utf-8",
        f"Content-Length: {len(encode(page))}",
        body=encode(page),
    )
    got, server = fetch({"/": route})
    assert got.body == page
    assert got.text().startswith("Zażółć")
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_it_decodes_every_member_of_a_multi_member_gzip_body():
    parts = [b"<p>first member</p>" * 50, b"<p>second member</p>" * 50, b"<p>third</p>"]
    body = b"".join(gzip.compress(part) for part in parts) + b"\x00" * 8  # padded, as some do
    route = ok("Content-Encoding: gzip", f"Content-Length: {len(body)}", body=body)
    got, _server = fetch({"/": route})
    assert got.body == b"".join(parts)


def test_it_applies_the_cap_across_gzip_members():
    member = gzip.compress(bytes(CAP // 2 + 1))
    body = member * 2
    route = ok("Content-Encoding: gzip", f"Content-Length: {len(body)}", body=body)
    got, _server = fetch({"/": route})
    assert isinstance(got, FetchError) and got.failure == FetchFailure.BODY_TOO_LARGE


def test_it_refuses_a_gzip_bomb_by_its_decoded_size():
    bomb = gzip.compress(bytes(20 * 1024 * 1024))  # 20 MB of zeros in ~20 kB
    assert len(bomb) < CAP
    route = ok("Content-Encoding: gzip", f"Content-Length: {len(bomb)}", body=bomb)
    got, _server = fetch({"/": route})
    assert isinstance(got, FetchError) and got.failure == FetchFailure.BODY_TOO_LARGE


def test_it_refuses_a_declared_length_over_the_cap_before_reading_it():
    got, _server = fetch({"/": ok(f"Content-Length: {CAP + 1}", body=b"x" * 10)})
    assert isinstance(got, FetchError) and got.failure == FetchFailure.BODY_TOO_LARGE


def test_it_refuses_a_chunked_body_that_grows_past_the_cap():
    chunk = f"{CAP // 4:x}\r\n".encode() + b"z" * (CAP // 4) + b"\r\n"
    route = Route(response("200 OK", "Transfer-Encoding: chunked") + chunk * 8 + b"0\r\n\r\n")
    got, _server = fetch({"/": route})
    assert isinstance(got, FetchError) and got.failure == FetchFailure.BODY_TOO_LARGE


def test_it_classifies_a_corrupt_gzip_body_as_an_invalid_response():
    got, _server = fetch(
        {"/": ok("Content-Encoding: gzip", "Content-Length: 9", body=b"not gzip!")}
    )
    assert isinstance(got, FetchError) and got.failure == FetchFailure.INVALID_RESPONSE


# --- headers ----------------------------------------------------------------------------------


def test_it_joins_repeated_header_fields_under_the_first_spelling():
    route = ok(
        "X-Robots-Tag: googlebot: noindex", "x-robots-tag: otherbot: nofollow", "Content-Length: 0"
    )
    got, _server = fetch({"/": route})
    assert got.headers == {
        "X-Robots-Tag": "googlebot: noindex, otherbot: nofollow",
        "Content-Length": "0",
    }


def test_it_decodes_the_body_with_the_declared_charset():
    page = "Łódź".encode("iso-8859-2")
    got, _server = fetch(
        {
            "/": ok(
                'Content-Type: text/plain; charset="ISO-8859-2"',
                f"Content-Length: {len(page)}",
                body=page,
            )
        }
    )
    assert got.charset == "ISO-8859-2"
    assert got.text() == "Łódź"


def test_it_sends_host_user_agent_accept_and_the_callers_headers():
    got, server = fetch(
        {"/p": ok("Content-Length: 0")},
        "/p?q=1",
        headers={"Accept": "application/json", "X-Check": "yes"},
    )
    assert got.status == 200
    seen = server.requests[0]
    assert seen.path == "/p?q=1"
    assert seen.headers["Host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["User-Agent"] == "sitecare-monitor/1.0"
    assert seen.headers["Accept"] == "application/json"  # the caller's, not the default
    assert seen.headers["X-Check"] == "yes"
    assert "Cookie" not in seen.headers


def test_it_sends_a_body_with_its_length():
    got, server = fetch({"/form": ok("Content-Length: 0")}, "/form", method="POST", body=b"a=1&b=2")
    assert got.status == 200
    assert server.requests[0].body == b"a=1&b=2"
    assert server.requests[0].headers["Content-Length"] == "7"


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X-A": "a\r\nHost: evil.example"}, "X-A"),
        ({"X-B": "b\nSet: x"}, "X-B"),
        ({"Bad Name": "x"}, "Bad Name"),
        ({"Content-Length": "0"}, "Content-Length"),
    ],
)
def test_it_refuses_header_injection_naming_the_header_before_connecting(netlog, headers, named):
    async def scenario():
        async with (
            ScriptedServer({"/": ok("Content-Length: 0")}) as server,
            OutboundClient() as client,
        ):
            with pytest.raises(ValueError, match=named):
                await client.fetch(server.url(), allowlist=LOOPBACK, timeout_s=3, headers=headers)
            return server.connections

    assert arun(scenario()) == 0
    assert netlog.connects() == []


def test_it_refuses_a_method_that_is_not_a_token():
    async def scenario():
        async with OutboundClient() as client:
            await client.fetch(
                "http://127.0.0.1:9/",
                allowlist=LOOPBACK,
                timeout_s=1,
                method="GET / HTTP/1.1\r\nX:",
            )

    with pytest.raises(ValueError, match="HTTP method"):
        arun(scenario())
