"""Two-factor sign-in on the profile: enrol (QR code and the secret as text, confirmed with a
first code), turn it off and make new recovery codes (each with the password or a code), and
for agency owners, require it of every member of the agency.

Turning it on or off raises the user's session epoch: every other session of the user ends,
and this one is written the new epoch so it goes on.
"""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from front.forms_account import ConfirmIdentityForm, EnrolForm
from front.views.account import signed_in_user
from tenancy import two_factor
from tenancy.models import Membership, Organization, Role
from tenancy.signin_state import loaded_state, remember, state_of


def qr_svg(uri: str) -> SafeString:
    """The otpauth address as an inline SVG QR code (dark on white, whatever the theme)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
        omitsize=True,
        title=_("QR code for your authenticator app"),
    )
    # segno writes the SVG from the address alone (no user text but the escaped address).
    return mark_safe(svg)  # noqa: S308


def _keep_this_session(request: HttpRequest, user: User, *, passed_second_step: bool) -> None:
    """After the epoch rose: this session carries the new one, the others end."""
    remember(request.session, state_of(user), passed_second_step=passed_second_step)


def _identity_refused(request: HttpRequest, user: User) -> HttpResponse | None:
    """Back to the profile, saying why, unless the password or a code posted proves who it
    is (throttled as a sign-in); None when it does."""
    form = ConfirmIdentityForm(request, user, request.POST)
    if form.is_valid():
        return None
    messages.error(request, " ".join(str(e) for e in form.errors.get("secret", [])))
    return redirect("front:profile")


def _show_codes(request: HttpRequest, codes: list[str], heading: str) -> HttpResponse:
    response = render(request, "front/recovery_codes.html", {"codes": codes, "heading": heading})
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters()
@never_cache
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up two-factor sign-in: scan, type the first code; recovery codes are shown once."""
    user = signed_in_user(request)
    if two_factor.is_enabled(user.pk):
        return redirect("front:profile")
    record = two_factor.start_enrolment(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_enrolment(user, form.cleaned_data["code"], timezone.now())
        if codes is not None:
            _keep_this_session(request, user, passed_second_step=True)
            return _show_codes(request, codes, _("Two-factor sign-in is on"))
        form.add_error(
            "code", _("This code does not match. Check the time on your phone and try again.")
        )
    uri = two_factor.provisioning_uri(user, record.secret)
    context = {
        "form": form,
        "qr": qr_svg(uri),
        "secret": " ".join(record.secret[i : i + 4] for i in range(0, len(record.secret), 4)),
        "required": loaded_state(user).required,
    }
    return render(request, "front/two_factor_enrol.html", context)


@sensitive_post_parameters()
@never_cache
@login_required
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    refused = _identity_refused(request, user)
    if refused is not None:
        return refused
    two_factor.disable(user)
    _keep_this_session(request, user, passed_second_step=False)
    messages.success(request, _("Two-factor sign-in is off. Your other sessions are signed out."))
    return redirect("front:profile")


@sensitive_post_parameters()
@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not two_factor.is_enabled(user.pk):
        return redirect("front:profile")
    refused = _identity_refused(request, user)
    if refused is not None:
        return refused
    codes = two_factor.regenerate_recovery_codes(user, timezone.now())
    return _show_codes(request, codes, _("New recovery codes"))


@login_required
@require_POST
def agency_requirement(request: HttpRequest) -> HttpResponse:
    """An agency owner requires two-factor sign-in of every member, or stops requiring it."""
    user = signed_in_user(request)
    membership = Membership.objects.filter(user=user, role=Role.OWNER).first()
    if membership is None:
        raise Http404("not an agency owner")
    required = request.POST.get("require") == "on"
    if required and not two_factor.is_enabled(user.pk):
        messages.error(
            request, _("Turn on two-factor sign-in for yourself before requiring it of others.")
        )
        return redirect("front:profile")
    Organization.objects.filter(pk=membership.organization_id).update(require_two_factor=required)
    if required:
        messages.success(
            request,
            _(
                "Two-factor sign-in is now required: members without it set it up at their "
                "next page."
            ),
        )
    else:
        messages.success(request, _("Two-factor sign-in is no longer required."))
    return redirect("front:profile")
