"""System checks of the account settings that security depends on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

TOKEN_REVOCATION = "tenancy.passwords.RevokeApiTokensOnChange"


@checks.register(checks.Tags.security)
def password_change_revokes_tokens(**kwargs: Any) -> list[checks.CheckMessage]:
    """Without the password hook in the settings, a changed password would leave tokens valid."""
    names = {entry.get("NAME") for entry in settings.AUTH_PASSWORD_VALIDATORS}
    if TOKEN_REVOCATION in names:
        return []
    return [
        checks.Error(
            f"AUTH_PASSWORD_VALIDATORS lacks {TOKEN_REVOCATION}: a changed password would "
            "leave the user's API tokens listed until each is next used (and then revoked).",
            id="tenancy.E001",
        )
    ]
