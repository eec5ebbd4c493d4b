"""The agency's tags: list, create, rename, recolour, delete (owners and engineers only;
client users are told these pages do not exist and see tags only on their monitors)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from front.forms_tags import TagForm
from front.views.common import agency_scope, posted_id
from monitoring.models import Tag


@login_required
@require_http_methods(["GET", "POST"])
def tag_list(request: HttpRequest) -> HttpResponse:
    """The tags with how many monitors carry each, and the form for a new one."""
    scope = agency_scope(request)
    org_id = scope.organization_id
    assert org_id is not None
    form = TagForm(request.POST or None, organization_id=org_id)
    if request.method == "POST" and form.is_valid():
        tag = form.save()
        messages.success(request, _("Tag %(name)s created.") % {"name": tag.name})
        return redirect("front:tags")
    tags = scope.visible(Tag).annotate(monitor_count=Count("monitors")).order_by("name")
    return render(request, "front/tags.html", {"tags": tags, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request: HttpRequest, tag_id: int) -> HttpResponse:
    """Rename or recolour one tag; its monitors keep it."""
    scope = agency_scope(request)
    tag = scope.get(Tag, pk=tag_id)
    assert scope.organization_id is not None
    form = TagForm(request.POST or None, instance=tag, organization_id=scope.organization_id)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Tag %(name)s saved.") % {"name": tag.name})
        return redirect("front:tags")
    return render(request, "front/tag_form.html", {"tag": tag, "form": form})


@login_required
@require_POST
def tag_delete(request: HttpRequest) -> HttpResponse:
    """Delete the posted tag: its monitors lose it, nothing else changes."""
    scope = agency_scope(request)
    tag = scope.get(Tag, pk=posted_id(request, "tag"))
    name = tag.name
    tag.delete()
    messages.success(request, _("Tag %(name)s deleted.") % {"name": name})
    return redirect("front:tags")
