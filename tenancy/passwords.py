"""What a changed password ends: the API tokens not made to survive it.

Django ends the other web sessions itself (their hash is derived from the password). For the
tokens we use the hook Django gives every password change: ``AbstractBaseUser.save()`` calls
``password_changed()`` on each configured password validator after ``set_password()``. Every
path goes through it (the profile page, the admin's password form, ``sitecare
changepassword``, ``set_password()`` + ``save()`` in code), and nothing else does: a login
that upgrades the stored hash to a newer hasher is not a change and keeps the tokens.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from tenancy.models import ApiToken

logger = logging.getLogger("sitecare.accounts")


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
