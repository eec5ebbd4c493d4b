"""Client TLS contexts of outbound requests: verified (default), a custom CA, or unverified.

Each setting maps to one shared context object: the connection pool keys idle connections by
the context, so a keep-alive connection verified under one policy never serves a request that
asked for another, and contexts (costly to build) are not rebuilt per check.
"""

from __future__ import annotations

import functools
import ssl


def tls_context(*, verify: bool, ca_pem: str | None) -> ssl.SSLContext:
    """The client TLS context for a request's settings (one shared object per setting)."""
    if not verify:
        return _unverified_context()
    if ca_pem:
        return custom_ca_context(ca_pem)
    return _verified_context()


@functools.lru_cache(maxsize=1)
def _verified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs()
    return context


@functools.lru_cache(maxsize=1)
def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@functools.lru_cache(maxsize=256)
def custom_ca_context(ca_pem: str) -> ssl.SSLContext:
    """A context trusting only the given CA bundle (PEM); ssl.SSLError if it holds none."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca_pem)
    return context
