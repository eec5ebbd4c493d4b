"""The language switch and the personal profile (language, password, API tokens, and for
owners and engineers their personal alert channels, which escalation policies page).

API tokens are personal, not tenant data: they are looked up by their owner, never through the
tenant scope, so nobody (not even an agency owner) can see or revoke another user's token here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from front.forms import LanguageForm, TokenCreateForm, TokenRevokeForm
from front.forms_account import ChangePasswordForm, ConfirmIdentityForm
from incidents.channels import send_test
from incidents.escalation_edit import create_personal_channel, personal_channels
from sitecare.lib.names import validate_name
from tenancy import two_factor
from tenancy.models import ApiToken, Membership, Role
from tenancy.scoping import scope_for

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


class PersonalChannelForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Channel name"),
        max_length=200,
        validators=[validate_name],
        help_text=gettext_lazy("Unique in the agency, e.g. “Anna's phone”."),
    )
    url = forms.CharField(
        label=gettext_lazy("Apprise URL"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Where you are paged, e.g. ntfy://…, mailto://…, tgram://…"),
    )


def _user_id(request: HttpRequest) -> int:
    """The signed-in user's id (the views using it require sign-in)."""
    if request.user.pk is None:
        raise Http404("not signed in")
    return int(request.user.pk)


def _membership(request: HttpRequest) -> Membership | None:
    return Membership.objects.filter(user_id=_user_id(request)).first()


def _safe_next(request: HttpRequest) -> str:
    """The page to go back to, if it is on this site; the dashboard otherwise."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("front:dashboard")


def _remember_language(response: HttpResponse, code: str) -> None:
    """The cookie makes the choice stick before sign-in too; blank clears it."""
    if not code:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: saved in the profile when signed in, and in a cookie."""
    code = request.POST.get("language", "")
    response: HttpResponse = HttpResponseRedirect(_safe_next(request))
    if code not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        Membership.objects.filter(user_id=_user_id(request)).update(language=code)
    _remember_language(response, code)
    return response


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in user (the views using it require sign-in)."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("not signed in")
    return user


def _profile_page(
    request: HttpRequest,
    *,
    language_form: LanguageForm | None = None,
    token_form: TokenCreateForm | None = None,
    personal_form: PersonalChannelForm | None = None,
    password_form: ChangePasswordForm | None = None,
) -> HttpResponse:
    membership = _membership(request)
    if language_form is None and membership is not None:
        language_form = LanguageForm(instance=membership)
    context: dict[str, Any] = {
        "membership": membership,
        "language_form": language_form,
        "token_form": token_form or TokenCreateForm(),
        "tokens": ApiToken.objects.filter(user_id=_user_id(request)),
        "password_form": password_form or ChangePasswordForm(request, signed_in_user(request)),
        "two_factor_on": two_factor.is_enabled(_user_id(request)),
        "identity_form": ConfirmIdentityForm(request, signed_in_user(request)),
        "recovery_codes_left": two_factor.recovery_codes_left(_user_id(request)),
    }
    if membership is not None and membership.role == Role.OWNER:
        context["agency"] = membership.organization
        context["members"] = two_factor.agency_members(membership.organization_id)
    if membership is not None and membership.is_agency:
        context["personal_form"] = personal_form or PersonalChannelForm()
        context["personal_channels"] = personal_channels(membership.user)
    return render(request, "front/profile.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@require_POST
def profile_language(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if membership is None:
        raise Http404("no membership")
    form = LanguageForm(request.POST, instance=membership)
    if not form.is_valid():
        return _profile_page(request, language_form=form)
    form.save()
    messages.success(request, _("Your language is saved."))
    response = redirect("front:profile")
    _remember_language(response, membership.language)
    return response


@never_cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Issue a token and show its raw value on this response only (it is stored hashed)."""
    form = TokenCreateForm(request.POST, request=request, user=signed_in_user(request))
    if not form.is_valid():
        return _profile_page(request, token_form=form)
    token, raw = ApiToken.issue(
        request.user,
        form.cleaned_data["name"],
        survives_password_change=form.cleaned_data["survives_password_change"],
    )
    return render(request, "front/token_created.html", {"token": token, "raw": raw})


@sensitive_post_parameters()
@login_required
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's password: other sessions end (Django) and so do API tokens not made to
    survive it (``tenancy.passwords``); this session goes on."""
    user = signed_in_user(request)
    revoked, kept = ApiToken.fate_on_password_change(user.pk)
    form = ChangePasswordForm(request, user, request.POST)
    if not form.is_valid():
        return _profile_page(request, password_form=form)
    form.save()
    update_session_auth_hash(request, user)
    said = [_("Your password is changed. Your other sessions are signed out.")]
    if revoked:
        said.append(
            ngettext(
                "%(count)d API token is revoked.", "%(count)d API tokens are revoked.", revoked
            )
            % {"count": revoked}
        )
    if kept:
        said.append(
            ngettext(
                "%(count)d token made to survive password changes is kept.",
                "%(count)d tokens made to survive password changes are kept.",
                kept,
            )
            % {"count": kept}
        )
    messages.success(request, " ".join(said))
    return redirect("front:profile")


@never_cache
def admin_password_change(request: HttpRequest) -> HttpResponse:
    """``/admin/password_change/``: the profile's password change, whose current-password
    check is throttled like a sign-in (the admin's own form checks it unthrottled)."""
    return HttpResponseRedirect(reverse("front:profile") + "#password")


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    form = TokenRevokeForm(request.POST)
    if not form.is_valid():
        raise Http404("no such token")
    mine = ApiToken.objects.filter(user_id=_user_id(request))
    token = mine.filter(pk=form.cleaned_data["token"]).first()
    if token is None:
        raise Http404("no such token")
    token.delete()
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("front:profile")


def _agency_member(request: HttpRequest) -> Membership:
    """Personal channels are for owners and engineers: anyone else is told there is nothing."""
    membership = _membership(request)
    if membership is None or not scope_for(request.user).is_agency:
        raise Http404("not found")
    return membership


@login_required
@require_POST
def personal_channel_create(request: HttpRequest) -> HttpResponse:
    membership = _agency_member(request)
    form = PersonalChannelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            create_personal_channel(
                membership.organization_id, membership.user, data["name"], data["url"]
            )
        except ValidationError as exc:
            for field, found in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(
                request, _("The channel “%(name)s” is added.") % {"name": data["name"]}
            )
            return redirect("front:profile")
    return _profile_page(request, personal_form=form)


@login_required
@require_POST
def personal_channel_act(request: HttpRequest) -> HttpResponse:
    """Send a test message to one of your own channels, or delete it."""
    membership = _agency_member(request)
    try:
        channel_id = int(request.POST.get("channel", ""))
    except ValueError:
        raise Http404("no such channel") from None
    channel = personal_channels(membership.user).filter(pk=channel_id).first()
    if channel is None:
        raise Http404("no such channel")
    if request.POST.get("action") == "test":
        outcome = send_test(channel, by=membership.user.get_username())
        if outcome.delivered:
            messages.success(request, _("The test message was delivered."))
        else:
            failed = _("The test message was not delivered: %(error)s") % {"error": outcome.error}
            messages.error(request, failed)
        return redirect("front:profile")
    channel.delete()
    messages.success(request, _("The channel “%(name)s” is deleted.") % {"name": channel.name})
    return redirect("front:profile")
