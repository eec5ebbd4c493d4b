"""Forms of the web UI (personal settings; back-office editing lives in the admin)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from front.forms_account import confirm_password
from tenancy.models import Membership


class LanguageForm(forms.ModelForm):
    """The language of the user's pages; blank follows the browser."""

    class Meta:
        model = Membership
        fields = ["language"]
        labels = {"language": _("Language of the pages")}
        help_texts = {
            "language": _("“Browser default” follows the language your browser asks for.")
        }


class TokenCreateForm(forms.Form):
    """A new token; one that survives password changes needs the current password."""

    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “deploy script”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    survives_password_change = forms.BooleanField(
        label=_("Keep it when my password changes"),
        required=False,
        help_text=_(
            "For unattended scripts. Without this, changing your password revokes the token."
        ),
    )
    password = forms.CharField(
        label=_("Your current password"),
        required=False,
        strip=False,
        help_text=_("Needed only for a token that is kept when your password changes."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(
        self,
        *args: Any,
        request: HttpRequest | None = None,
        user: User | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("survives_password_change"):
            assert self.request is not None and self.user is not None
            try:
                confirm_password(self.request, self.user, str(data.get("password") or ""))
            except ValidationError as refused:
                self.add_error("password", refused)
        return data


class TokenRevokeForm(forms.Form):
    token = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
