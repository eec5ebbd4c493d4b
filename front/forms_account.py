"""Forms of signing in and of the account's own security: every check of a password (the
sign-in, a password change, a token that survives password changes) is throttled per account
name and client address, so none of them is a way around the sign-in throttle."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sitecare.lib.client_address import client_address
from tenancy import throttle
from tenancy.throttle import SignInLocked, ThrottleKey

# What the log says about an attempt: the account name as typed (cut short) and the address.
LOGGED_NAME_LENGTH = 64


def signin_keys(request: HttpRequest, username: str) -> list[ThrottleKey]:
    """What a sign-in attempt counts against: the account name and the client's address."""
    return [throttle.account_key(username), throttle.address_key(client_address(request))]


def who(request: HttpRequest, username: str) -> str:
    """The attempt, for the log: never the password."""
    return f"account {username[:LOGGED_NAME_LENGTH]!r} from {client_address(request)}"


def locked_message(until: datetime, now: datetime) -> str:
    """When to try again, in minutes and as a time of day (rounded up to the minute).

    The same words for every lock, so the message never tells whether the account exists.
    """
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    local = timezone.localtime(until)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    at = formats.time_format(local, "H:i")
    return ngettext(
        "Too many failed attempts. Please try again in %(minutes)d minute, at %(time)s.",
        "Too many failed attempts. Please try again in %(minutes)d minutes, at %(time)s.",
        minutes,
    ) % {"minutes": minutes, "time": at}


def confirm_password(request: HttpRequest, user: User, password: str) -> None:
    """Raise ``ValidationError`` unless ``password`` is the user's; a wrong one counts as a
    failed sign-in, and a locked account is refused without looking."""
    now = timezone.now()
    username = user.get_username()
    keys = signin_keys(request, username)
    try:
        throttle.check(keys, now, what="password check", who=who(request, username))
    except SignInLocked as locked:
        raise ValidationError(locked_message(locked.until, now), code="locked") from None
    if user.check_password(password):
        return
    throttle.record_failure(keys, now, what="password check", who=who(request, username))
    until = throttle.locked_until(keys, now)
    if until is not None:
        raise ValidationError(locked_message(until, now), code="locked")
    raise ValidationError(_("This is not your current password."), code="wrong_password")


class SignInForm(AuthenticationForm):
    """The password step. A locked name or address is refused before the password is looked
    at; each wrong password counts against both."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Your user name and password did not match. Please try again."),
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        assert self.request is not None  # LoginView passes it
        now = timezone.now()
        keys = signin_keys(self.request, username)
        try:
            throttle.check(keys, now, what="sign-in", who=who(self.request, username))
        except SignInLocked as locked:
            raise ValidationError(locked_message(locked.until, now), code="locked") from None
        try:
            return super().clean()
        except ValidationError:
            throttle.record_failure(keys, now, what="sign-in", who=who(self.request, username))
            until = throttle.locked_until(keys, now)
            if until is not None:
                raise ValidationError(locked_message(until, now), code="locked") from None
            raise


class ChangePasswordForm(PasswordChangeForm):
    """The profile's password change; the current password is checked through the throttle."""

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request
        self.fields["old_password"].widget.attrs.pop("autofocus", None)

    def clean_old_password(self) -> str:
        old_password = str(self.cleaned_data.get("old_password") or "")
        confirm_password(self.request, self.user, old_password)
        return old_password
