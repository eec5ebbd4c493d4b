"""Adding, changing and deleting sites (agency owners and engineers; anyone else gets 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.deletion import site_deletion
from front.forms_manage import SiteForm
from front.views.common import agency_scope
from sites.models import Site
from tenancy.models import Client


@login_required
@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest, client_id: int) -> HttpResponse:
    scope = agency_scope(request)
    client = scope.get(Client, pk=client_id)
    form = SiteForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        site = form.save()
        messages.success(request, _("The site “%(name)s” is added.") % {"name": site.name})
        return redirect("front:site", site_id=site.pk)
    return render(request, "front/site_form.html", {"form": form, "client": client, "site": None})


@login_required
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    scope = agency_scope(request)
    site = scope.get(Site.objects.select_related("client"), pk=site_id)
    form = SiteForm(request.POST or None, instance=site, client=site.client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The site is saved."))
        return redirect("front:site", site_id=site.pk)
    context = {"form": form, "client": site.client, "site": site}
    return render(request, "front/site_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def site_delete(request: HttpRequest, site_id: int) -> HttpResponse:
    """A page that says what goes with the site; deleting it takes its monitors and history."""
    scope = agency_scope(request)
    site = scope.get(Site.objects.select_related("client"), pk=site_id)
    if request.method == "POST":
        with transaction.atomic():
            site.delete()
        messages.success(request, _("The site “%(name)s” is deleted.") % {"name": site.name})
        return redirect("front:client", client_id=site.client_id)
    context = {
        "object": site,
        "title": _("Delete the site “%(name)s”?") % {"name": site.name},
        "summary": site_deletion(site),
        "cancel_url": reverse("front:site", args=[site.pk]),
    }
    return render(request, "front/confirm_delete.html", context)
