"""Signing in: the password step, the code step of two-factor sign-in, and the one way into
the Django admin.

Between the two steps nobody is signed in: the session (an anonymous one) holds only which
user passed the password step, when, and the hash of that user's password. Leaving the code
page for any other page finds no signed-in user there; after ``PENDING_SECONDS`` (or a
password change) the password step must be done again. The admin's own login page would be a
second door, without throttling or the code step, so ``/admin/login/`` sends everyone here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from front.forms_account import SecondStepForm, SignInForm, identity_key
from tenancy import throttle, two_factor
from tenancy.devices import remember_device
from tenancy.signin_state import remember, state_of

PENDING_KEY = "sitecare_pending_sign_in"
# Time to type the code after the password.
PENDING_SECONDS = 300


def complete_sign_in(
    request: HttpRequest, user: User, target: str, *, passed_second_step: bool
) -> HttpResponse:
    """Sign the user in (a new session key), note what the session passed, forget the failed
    attempts of the account (or of this browser's device), and go to ``target`` with a new
    device cookie for this account."""
    username = user.get_username()
    throttle.forget(identity_key(request, username))
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user)
    remember(request.session, state_of(user), passed_second_step=passed_second_step)
    response = HttpResponseRedirect(target)
    remember_device(response, username)
    return response


def _safe_target(request: HttpRequest, target: str, default: str) -> str:
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class SignInView(auth_views.LoginView):
    template_name = "front/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        """The password was right: sign in, or with two-factor sign-in, ask for a code."""
        user = form.get_user()
        if not two_factor.is_enabled(user.pk):
            return complete_sign_in(
                self.request, user, self.get_success_url(), passed_second_step=False
            )
        # A fresh anonymous session: nothing from before the password step is carried over.
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "password": user.get_session_auth_hash(),
            "at": timezone.now().timestamp(),
            "next": self.get_success_url(),
        }
        return redirect("front:login_code")


login = SignInView.as_view()
logout = auth_views.LogoutView.as_view()


def _pending_user(request: HttpRequest) -> tuple[User, str] | None:
    """The user who passed the password step in this session, and where they were going;
    None when nobody did, or too long ago, or their password changed since."""
    pending: dict[str, Any] | None = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if timezone.now().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.get_session_auth_hash() != pending.get("password"):
        return None
    return user, str(pending.get("next") or reverse("front:dashboard"))


@sensitive_post_parameters()
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app or a recovery code (throttled)."""
    if request.user.is_authenticated:
        return redirect("front:dashboard")
    found = _pending_user(request)
    if found is None:
        request.session.pop(PENDING_KEY, None)
        if request.method == "POST":
            messages.error(request, _("The sign-in took too long. Please start again."))
        return redirect("front:login")
    user, target = found
    form = SecondStepForm(request, user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        return complete_sign_in(request, user, target, passed_second_step=True)
    return render(request, "front/login_code.html", {"form": form})


@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """``/admin/login/``: sign in on the one sign-in page, then come back to the admin."""
    target = _safe_target(request, request.GET.get("next", ""), reverse("admin:index"))
    if request.user.is_authenticated:
        if getattr(request.user, "is_staff", False):
            return HttpResponseRedirect(target)
        # Signed in without admin rights: sending them to sign in again would loop.
        messages.error(request, _("Your account has no access to the administration."))
        return redirect("front:dashboard")
    return HttpResponseRedirect(f"{resolve_url('front:login')}?{urlencode({'next': target})}")
