"""The demo shop's hero image: a light PNG normally, a heavy one sent slowly in "heavy" mode.

Both are drawn here (no image library needed) at the same size, so the page's layout does not
move when the mode changes: only the bytes and the time they take do, which is what a speed
monitor's Largest Contentful Paint sees.
"""

from __future__ import annotations

import asyncio
import random
import struct
import zlib
from functools import cache

from aiohttp import web

WIDTH, HEIGHT = 1200, 420
# Sent in this many pieces spread over the heavy mode's delay: the browser keeps waiting for
# the image (its LCP grows) while the page itself answered at once.
HEAVY_CHUNKS = 40
# A warm terracotta band fading into sand: the light hero.
TOP, BOTTOM = (194, 65, 12), (250, 237, 205)


def png(width: int, height: int, rows: list[bytes], *, level: int) -> bytes:
    """A truecolour PNG of raw RGB ``rows`` (each ``3 * width`` bytes), deflated at ``level``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, level))
        + chunk(b"IEND", b"")
    )


@cache
def light_hero() -> bytes:
    """A vertical gradient: a few kilobytes, since every row repeats one colour."""
    rows = []
    for y in range(HEIGHT):
        mix = y / (HEIGHT - 1)
        colour = bytes(round(a + (b - a) * mix) for a, b in zip(TOP, BOTTOM, strict=True))
        rows.append(colour * WIDTH)
    return png(WIDTH, HEIGHT, rows, level=9)


@cache
def heavy_hero() -> bytes:
    """The same size in noise, stored uncompressed: about 1.5 MB that no encoder can shrink.

    Seeded, so every run of the demo serves the same bytes (and the same speed figures).
    """
    noise = random.Random(12).randbytes(WIDTH * 3 * HEIGHT)
    rows = [noise[y * WIDTH * 3 : (y + 1) * WIDTH * 3] for y in range(HEIGHT)]
    return png(WIDTH, HEIGHT, rows, level=0)


async def send_slowly(request: web.Request, data: bytes, seconds: float) -> web.StreamResponse:
    """Stream ``data`` as a PNG in pieces over ``seconds`` (its length announced up front)."""
    response = web.StreamResponse(
        headers={"Content-Type": "image/png", "Cache-Control": "no-store"}
    )
    response.content_length = len(data)
    await response.prepare(request)
    size = -(-len(data) // HEAVY_CHUNKS)
    for start in range(0, len(data), size):
        await asyncio.sleep(seconds / HEAVY_CHUNKS)
        await response.write(data[start : start + size])
    await response.write_eof()
    return response
