"""Forms of the web UI (personal settings; back-office editing lives in the admin)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “deploy script”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class TokenRevokeForm(forms.Form):
    token = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
