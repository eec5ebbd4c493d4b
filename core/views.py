"""The demo's admin toggle: agency members break and repair the local demo shop from the UI."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.demo.state import (
    DemoMode,
    get_demo_mode,
    heavy_seconds,
    set_demo_mode,
    shop_url,
    slow_seconds,
)
from tenancy.scoping import scope_for


@login_required
@require_http_methods(["GET", "POST"])
def demo_toggle(request: HttpRequest) -> HttpResponse:
    """Show the demo shop's mode with buttons that change it.

    1. Only agency owners and engineers reach it; anyone else gets 404.
    2. POST: store the chosen mode (the shop reads it on its next request), then redirect.
    3. GET: show the current mode, the buttons and links to the shop and its inbox.
    """
    if not scope_for(request.user).is_agency:
        raise Http404("not found")
    if request.method == "POST":
        return _change_mode(request)
    return render(request, "core/demo.html", _page_context())


def _change_mode(request: HttpRequest) -> HttpResponse:
    mode = request.POST.get("mode", "")
    if mode not in DemoMode.values:
        messages.error(request, _("Unknown demo mode."))
        return redirect("core:demo")
    new_mode = set_demo_mode(mode)
    messages.success(
        request,
        _("The demo shop is now: %(mode)s. The monitors notice at their next checks.")
        % {"mode": new_mode.label},
    )
    return redirect("core:demo")


def _page_context() -> dict[str, Any]:
    mode = get_demo_mode()
    return {
        "mode": mode,
        "actions": _actions(),
        "shop_url": shop_url("/"),
        "inbox_url": shop_url("/_inbox"),
    }


def _actions() -> list[dict[str, str]]:
    """The buttons: each mode with what it does to the shop and its monitors."""
    return [
        {
            "mode": DemoMode.CHECKOUT,
            "label": _("Break checkout"),
            "effect": _("Checkout answers 500: its monitor goes down, one incident, one alert."),
        },
        {
            "mode": DemoMode.ALL,
            "label": _("Break the whole shop"),
            "effect": _("Every shop page answers 503: all the demo monitors go down."),
        },
        {
            "mode": DemoMode.SLOW,
            "label": _("Make it slow"),
            "effect": _(
                "Pages answer after %(seconds)s seconds, longer than the monitors wait: "
                "the checks time out."
            )
            % {"seconds": f"{slow_seconds():g}"},
        },
        {
            "mode": DemoMode.PAYMENT,
            "label": _("Break payment"),
            "effect": _(
                "Paying fails while every page answers 200: the HTTP monitors stay green, the "
                "purchase (transaction monitor) goes red at the payment, with a screenshot."
            ),
        },
        {
            "mode": DemoMode.HEAVY,
            "label": _("Make the hero image heavy"),
            "effect": _(
                "The home page's hero image weighs 1.5 MB and takes %(seconds)s seconds: the "
                "pages still answer at once, the speed monitor's LCP budget breaks."
            )
            % {"seconds": f"{heavy_seconds():g}"},
        },
        {
            "mode": DemoMode.OK,
            "label": _("Repair"),
            "effect": _("Everything answers normally again; the incidents resolve."),
        },
    ]
