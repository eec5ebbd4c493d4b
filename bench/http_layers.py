"""CPU per HTTP check, layer by layer, against one local target (no keep-alive there).

    taskset -c 1 uv run python bench/http_layers.py URL [--requests 20000] [--concurrency 64]

Runs the same number of GETs through each layer of the probe path in turn, on one uvloop
loop, and prints the CPU time per request:

- a raw asyncio protocol (connect, write the request, read until the server closes): the
  floor any HTTP client on this loop pays for the connection and the syscalls;
- a bare aiohttp session (what sitecare's outbound module used before its own client);
- the guarded ``OutboundClient.fetch`` (SSRF guard, deadline, caps, timing, pool);
- the HTTP check kind's ``run`` (options, judging, the outcome).

The differences show what each layer costs on top of the one below (the engine's share is
in bench/engine.py). Other work on the machine moves the figures: compare within a round.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parent.parent


async def measure(
    name: str, requests: int, concurrency: int, one: Callable[[], Awaitable[None]]
) -> None:
    """Run ``requests`` calls of ``one``, ``concurrency`` at a time; print CPU per call."""
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    began_cpu, began = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began
    print(
        f"  {name:<32} {1000 * cpu / requests:6.3f} ms CPU/request  {requests / wall:8,.0f} req/s"
    )


class ReadUntilClose(asyncio.Protocol):
    """Sends one request on connect; resolves ``done`` when the server closes."""

    def __init__(self, request: bytes, done: asyncio.Future[None]) -> None:
        self.request, self.done = request, done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def main(args: argparse.Namespace) -> None:
    from monitoring.checks import http
    from monitoring.engine.target import CheckTarget
    from sitecare.lib.http import OutboundClient

    url = args.url
    allowlist = (ipaddress.ip_network("127.0.0.0/8"),)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
    )
    target = CheckTarget(1, "http", url, {}, 30.0, 10.0, allowlist)
    loop = asyncio.get_running_loop()
    for round_no in range(args.rounds):
        print(f"round {round_no + 1}")

        async def raw() -> None:
            done: asyncio.Future[None] = loop.create_future()
            await loop.create_connection(lambda: ReadUntilClose(request.encode(), done), host, port)
            await done

        await measure("raw asyncio protocol (floor)", args.requests, args.concurrency, raw)
        async with aiohttp.ClientSession() as session:

            async def bare() -> None:
                async with session.get(url) as resp:
                    await resp.read()

            await measure("bare aiohttp", args.requests, args.concurrency, bare)
        async with OutboundClient(connection_limit=args.concurrency) as client:

            async def fetch() -> None:
                await client.fetch(url, allowlist=allowlist, timeout_s=10.0)

            await measure("OutboundClient.fetch", args.requests, args.concurrency, fetch)

            async def check() -> None:
                await http.run(target, client)

            await measure("http check kind (run)", args.requests, args.concurrency, check)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    with tempfile.TemporaryDirectory(prefix="sitecare-layers-") as tmp:
        os.environ.setdefault("SITECARE_VAR_DIR", tmp)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitecare.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        uvloop.run(main(parser.parse_args()))
