"""What a changed password ends: the API tokens not made to survive it.

Django ends the other web sessions itself (their hash is derived from the stored password).
Tokens work the same way: each is tied to its owner's stored password when issued
(``ApiToken.password_mark``) and is revoked at its next use once the stored password differs,
whatever changed it. Two things keep that exact:

1. A password check that re-hashes the stored password with a newer hasher (Django does this
   on a successful check) is not a change: the tokens tied to the old hash are moved to the
   new one (``check_password``, and ``PasswordBackend`` for signing in), after checking that
   the old hash holds the same password.
2. The hook Django gives every ``set_password()`` (``AbstractBaseUser.save()`` calls
   ``password_changed()`` on each configured password validator) deletes the tokens at once
   on the usual paths (the profile page, the admin's password form, ``sitecare
   changepassword``), so the token lists never show revoked ones there; the check at use
   covers every other path.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model, hashers
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tenancy.models import ApiToken, password_mark
from tenancy.signin_state import USER_DEFERRED, USER_RELATIONS

logger = logging.getLogger("sitecare.accounts")


def follow_rehash(user: AbstractBaseUser, raw_password: str, before: str) -> None:
    """The stored password of ``user`` went from ``before`` to ``user.password`` during a
    successful check of ``raw_password``: if that was a re-hash of the same password (the
    old hash holds it too), keep the user's tokens tied to it."""
    after = user.password
    if after == before or not hashers.check_password(raw_password, before):
        return
    ApiToken.objects.filter(user_id=user.pk, password_mark=password_mark(before)).update(
        password_mark=password_mark(after)
    )


def check_password(user: AbstractBaseUser, raw_password: str) -> bool:
    """``user.check_password``, keeping the user's tokens when the check re-hashes."""
    before = user.password
    right = user.check_password(raw_password)
    if right:
        follow_rehash(user, raw_password, before)
    return right


class PasswordBackend(ModelBackend):
    """Django's user-name-and-password sign-in, keeping the tokens when it re-hashes; the user
    of each signed-in request comes with what every request asks of it."""

    def get_user(self, user_id: Any) -> User | None:
        """The session's user, loaded in one query with its sign-in state and membership (the
        sign-in guard, the language and the scoping helper read them on every request)."""
        users = get_user_model()._default_manager.select_related(*USER_RELATIONS)
        user = users.defer(*USER_DEFERRED).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        before = None
        if username is not None:
            users = get_user_model()._default_manager
            found = users.filter(**{get_user_model().USERNAME_FIELD: username})
            before = found.values_list("password", flat=True).first()
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and before is not None and password is not None:
            follow_rehash(user, password, before)
        return user


class RevokeApiTokensOnChange:
    """Listed in ``AUTH_PASSWORD_VALIDATORS``: refuses no password, acts when one changed."""

    def validate(self, password: str, user: object | None = None) -> None:
        return None

    def password_changed(self, password: str, user: object | None = None) -> None:
        user_id = getattr(user, "pk", None)
        if user_id is None:
            return
        revoked = ApiToken.revoke_on_password_change(int(user_id))
        if revoked:
            logger.info("password of user %s changed: %d API tokens revoked", user_id, revoked)

    def get_help_text(self) -> str:
        return _(
            "Changing the password revokes the API tokens that were not made to survive "
            "password changes."
        )
