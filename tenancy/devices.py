"""Browsers that signed in to an account before: their attempts are not held by the
account's lock (OWASP's "device cookie" against lock-out by others).

Anyone who knows an account name can lock it by guessing, from anywhere, once each time its
lock ends. So the lock on an account name holds only for browsers that never signed in to it:

1. A complete sign-in gives the browser a *device cookie*: the account's key (a hash of the
   name, as the throttle keys it) and a random id, signed with the secret key (Django's
   signing: HMAC), valid for a year, HttpOnly, SameSite=Strict, and Secure with
   ``SITECARE_SECURE_COOKIES``. Each sign-in gives a new one.
2. An attempt for that account name from a browser with a valid cookie counts against the
   device (its id) instead of the account name, with the same policy: guessing through a
   stolen cookie is throttled like guessing at the account, and locks only that cookie.
3. Without a valid cookie for the name typed, the account name's lock applies as before.
   Both kinds count against the client's address too.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from tenancy.throttle import ThrottleKey, account_key, device_key

COOKIE_NAME = "sitecare_device"
COOKIE_AGE = timedelta(days=365)
# Django's signing derives its HMAC key from the secret key and this salt.
SALT = "sitecare.tenancy.devices"


def remember_device(response: HttpResponse, username: str) -> None:
    """Give the browser a new device cookie for the account it just signed in to."""
    value = signing.dumps([account_key(username).key, secrets.token_urlsafe(24)], salt=SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(COOKIE_AGE.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def device_key_for(request: HttpRequest, username: str) -> ThrottleKey | None:
    """The throttle key of this browser's device cookie, if it is valid and names the account
    ``username`` (as typed: the throttle's casefolding applies); None otherwise."""
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return None
    try:
        payload = signing.loads(value, salt=SALT, max_age=COOKIE_AGE)
    except signing.BadSignature:  # forged, altered, or older than a year
        return None
    if not isinstance(payload, list) or len(payload) != 2:
        return None
    account, device_id = payload
    if account != account_key(username).key or not isinstance(device_id, str):
        return None
    return device_key(device_id, username)
