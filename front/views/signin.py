"""Signing in: the password step (throttled) and the one way into the Django admin.

The admin's own login page would be a second door without throttling (and, later, without the
second step), so ``/admin/login/`` sends everyone to this sign-in page instead.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from front.forms_account import SignInForm
from tenancy import throttle


def complete_sign_in(request: HttpRequest, user: User) -> None:
    """Log the user in (a new session key) and forget the account's failed attempts."""
    auth_login(request, user)
    throttle.forget(throttle.account_key(user.get_username()))


class SignInView(auth_views.LoginView):
    template_name = "front/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        complete_sign_in(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


login = SignInView.as_view()
logout = auth_views.LogoutView.as_view()


@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """``/admin/login/``: sign in on the one sign-in page, then come back to the admin."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:index")
    if request.user.is_authenticated:
        if getattr(request.user, "is_staff", False):
            return HttpResponseRedirect(target)
        # Signed in without admin rights: sending them to sign in again would loop.
        messages.error(request, _("Your account has no access to the administration."))
        return redirect("front:dashboard")
    return HttpResponseRedirect(f"{resolve_url('front:login')}?{urlencode({'next': target})}")
