"""Adding, changing and deleting clients (agency owners and engineers; anyone else gets 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.deletion import client_deletion
from front.forms_manage import ClientForm
from front.views.common import agency_scope
from tenancy.models import Client


@login_required
@require_http_methods(["GET", "POST"])
def client_new(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    assert scope.organization_id is not None
    form = ClientForm(request.POST or None, organization_id=scope.organization_id)
    if request.method == "POST" and form.is_valid():
        client = form.save()
        messages.success(request, _("The client “%(name)s” is added.") % {"name": client.name})
        return redirect("front:client", client_id=client.pk)
    return render(request, "front/client_form.html", {"form": form, "client": None})


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    scope = agency_scope(request)
    client = scope.get(Client, pk=client_id)
    assert scope.organization_id is not None
    form = ClientForm(request.POST or None, instance=client, organization_id=scope.organization_id)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The client is saved."))
        return redirect("front:client", client_id=client.pk)
    return render(request, "front/client_form.html", {"form": form, "client": client})


@login_required
@require_http_methods(["GET", "POST"])
def client_delete(request: HttpRequest, client_id: int) -> HttpResponse:
    """A page that says what goes with the client; deleting it takes everything below it."""
    scope = agency_scope(request)
    client = scope.get(Client, pk=client_id)
    if request.method == "POST":
        with transaction.atomic():
            client.delete()
        messages.success(request, _("The client “%(name)s” is deleted.") % {"name": client.name})
        return redirect("front:dashboard")
    context = {
        "object": client,
        "title": _("Delete the client “%(name)s”?") % {"name": client.name},
        "summary": client_deletion(client),
        "cancel_url": reverse("front:client", args=[client.pk]),
    }
    return render(request, "front/confirm_delete.html", context)
