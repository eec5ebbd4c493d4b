"""Forms of signing in and of the account's own security: every check of a password (the
sign-in, a password change, a token that survives password changes) is throttled per account
name and client address, so none of them is a way around the sign-in throttle."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sitecare.lib.client_address import client_address
from tenancy import throttle, two_factor
from tenancy.devices import device_key_for
from tenancy.passwords import check_password
from tenancy.throttle import SignInLocked, ThrottleKey

WRONG_CODE = _("This code is not valid. Codes change every 30 seconds and each works once.")


def identity_key(request: HttpRequest, username: str) -> ThrottleKey:
    """Who an attempt is for: this browser's device cookie when it signed in to the account
    before (so others' guessing does not lock it out), else the account name."""
    return device_key_for(request, username) or throttle.account_key(username)


def signin_keys(request: HttpRequest, username: str) -> list[ThrottleKey]:
    """What a sign-in attempt counts against: the account name (or the device that signed
    in to it before) and the client's address."""
    return [identity_key(request, username), throttle.address_key(client_address(request))]


def who(request: HttpRequest, username: str) -> str:
    """The attempt, for the log: never the password, nor a name that is no account."""
    return f"account {throttle.logged_account(username)!r} from {client_address(request)}"


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


def _throttled_check(
    request: HttpRequest,
    user: User,
    what: str,
    passes: Callable[[datetime], bool],
    wrong: ValidationError,
) -> None:
    """Count the attempt, then run ``passes`` (given the time of the attempt) unless the
    account or address is locked. Raises ``ValidationError`` (``wrong``, or when to try
    again)."""
    now = timezone.now()
    username = user.get_username()
    keys = signin_keys(request, username)
    attempt = _begin(request, username, keys, now, what)
    if passes(now):
        throttle.succeeded(attempt)
        return
    _refuse(request, username, attempt, what, wrong)


def _begin(
    request: HttpRequest, username: str, keys: list[ThrottleKey], now: datetime, what: str
) -> throttle.Attempt:
    """The attempt, counted before it is checked; a locked one is refused with when to try
    again."""
    try:
        return throttle.begin(keys, now, what=what, who=who(request, username))
    except SignInLocked as locked:
        raise ValidationError(locked_message(locked.until, now), code="locked") from None


def _refuse(
    request: HttpRequest,
    username: str,
    attempt: throttle.Attempt,
    what: str,
    wrong: ValidationError,
) -> NoReturn:
    """A wrong attempt: logged; the message says when to try again if it started a lock."""
    throttle.failed(attempt, what=what, who=who(request, username))
    if attempt.lock is not None:
        raise ValidationError(locked_message(attempt.lock, attempt.now), code="locked")
    raise wrong


def confirm_password(request: HttpRequest, user: User, password: str) -> None:
    """Raise ``ValidationError`` unless ``password`` is the user's (throttled)."""
    wrong = ValidationError(_("This is not your current password."), code="wrong_password")
    _throttled_check(
        request, user, "password check", lambda now: check_password(user, password), wrong
    )


def confirm_second_factor(request: HttpRequest, user: User, code: str) -> None:
    """Raise ``ValidationError`` unless ``code`` is a fresh TOTP code or an unused recovery
    code of the user's (throttled; a recovery code is used up)."""
    wrong = ValidationError(WRONG_CODE, code="wrong_code")
    _throttled_check(
        request, user, "two-factor code", lambda now: two_factor.verify(user, code, now), wrong
    )


def confirm_password_or_code(request: HttpRequest, user: User, secret: str) -> None:
    """For turning two-factor sign-in off or making new recovery codes: the password or a code."""

    def passes(now: datetime) -> bool:
        return check_password(user, secret) or two_factor.verify(user, secret, now)

    wrong = ValidationError(
        _("This is neither your password nor a valid code."), code="wrong_password_or_code"
    )
    _throttled_check(request, user, "password or code check", passes, wrong)


class SignInForm(AuthenticationForm):
    """The password step. Each attempt is counted against the name and the address before
    the password is looked at (a locked one is refused unchecked); a right one takes its
    count back."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Your user name and password did not match. Please try again."),
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        assert self.request is not None  # LoginView passes it
        keys = signin_keys(self.request, username)
        attempt = _begin(self.request, username, keys, timezone.now(), "sign-in")
        try:
            cleaned = super().clean()
        except ValidationError as wrong:
            _refuse(self.request, username, attempt, "sign-in", wrong)
        throttle.succeeded(attempt)
        return cleaned


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


def _code_widget(autofocus: bool) -> forms.TextInput:
    attrs: dict[str, Any] = {
        "autocomplete": "one-time-code",
        "spellcheck": "false",
        "autocapitalize": "off",
    }
    if autofocus:
        attrs["autofocus"] = True
    return forms.TextInput(attrs=attrs)


class SecondStepForm(forms.Form):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
        widget=_code_widget(autofocus=True),
    )

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean_code(self) -> str:
        code = str(self.cleaned_data.get("code") or "")
        confirm_second_factor(self.request, self.user, code)
        return code


class EnrolForm(forms.Form):
    """Turning two-factor sign-in on: the first code the app shows proves it has the secret."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("The 6 digits your authenticator app shows now."),
        widget=_code_widget(autofocus=False),
    )


class ConfirmIdentityForm(forms.Form):
    """Before turning two-factor sign-in off or replacing the recovery codes."""

    secret = forms.CharField(
        label=_("Your password or a code"),
        strip=False,
        max_length=128,
        help_text=_("Your password, a code from your authenticator app, or a recovery code."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean_secret(self) -> str:
        secret = str(self.cleaned_data.get("secret") or "")
        confirm_password_or_code(self.request, self.user, secret)
        return secret
