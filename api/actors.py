"""Who did something through the API, for the records that keep it (a pause, a resume)."""

from __future__ import annotations

from django.http import HttpRequest

from tenancy.models import ApiToken, hash_token


def token_of(request: HttpRequest) -> ApiToken | None:
    """The API token the request came with (``Authorization: Bearer sc_…``); None for a
    browser session. Only called for writes worth recording: one query."""
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return ApiToken.objects.filter(token_hash=hash_token(raw.strip())).first()
