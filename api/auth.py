"""Who is calling: a personal API token (``Authorization: Bearer sc_…``) or the browser session.

The session is accepted so the web UI and the interactive docs can call the API; for unsafe
methods it needs Django's CSRF token, since a browser sends the cookie on its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from sitecare.lib.client_address import client_address
from tenancy import throttle
from tenancy.models import ApiToken, ThrottleKind
from tenancy.scoping import Scope, scope_for
from tenancy.signin_state import EnrolmentRequired, Standing, standing

# Writing last_used_at on every request would turn each read into a write (SQLite locks).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_for_token(raw: str) -> User | None:
    """The active user owning this raw token, if it still holds (``ApiToken.holding``), or
    None; notes the use at most once a minute."""
    token = ApiToken.holding(raw)
    if token is None:
        return None
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    return token.user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sc_…``; an address sending many wrong tokens is locked out.

    A right token is let in even from a locked address: a token carries 256 random bits, so
    checking one helps no guesser, while refusing it would lock out every script on a host
    because one of them still sends a revoked token. Only wrong tokens count: one from a
    locked address gets 429 with ``Retry-After`` (and does not lengthen the lock), the others
    401. A right token does not clear the count.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = user_for_token(token.strip())
        if user is not None:
            request.user = user
            return user
        address = client_address(request)
        keys = [throttle.address_key(address, ThrottleKind.TOKEN_ADDRESS)]
        # Raises SignInLocked (429) while the address is locked.
        throttle.record_failure(keys, timezone.now(), what="API token", who=f"from {address}")
        # A wrong or revoked token is refused outright, never retried as a session.
        raise AuthenticationError


class BrowserSession(SessionAuth):
    """The logged-in browser, when its session passed the whole sign-in
    (``tenancy.signin_state.standing``); CSRF is enforced by the base class for unsafe
    methods. A member who must set up two-factor sign-in first is refused (403), whatever
    other headers the request carries."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        found = standing(request)
        if found is Standing.MUST_ENROL:
            raise EnrolmentRequired
        if found is not Standing.SIGNED_IN or not isinstance(request.user, User):
            return None
        return request.user


def scope(request: HttpRequest) -> Scope:
    """The scoping helper's view of the authenticated caller."""
    return scope_for(caller(request))


def caller(request: HttpRequest) -> Any:
    """The authenticated user; ninja stores what the auth class returned on ``request.auth``."""
    return getattr(request, "auth", None)


API_AUTH = [TokenAuth(), BrowserSession()]
