"""Forms for clients and sites; names and addresses are judged by the models themselves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model, QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sites.models import Site
from tenancy.models import Client

SLUG_HELP = gettext_lazy("Used in addresses and YAML files; leave empty to make one from the name.")


def free_slug(wanted: str, taken: QuerySet[Any], limit: int = 100) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… the first one ``taken`` does not hold."""
    base = (wanted or "x")[: limit - 4].strip("-") or "x"
    used = set(taken.values_list("slug", flat=True))
    candidate, number = base, 1
    while candidate in used:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


class SlugFormMixin:
    """A slug made from the name when left empty; a taken one is an error on the field (the
    unique constraint names the parent, which the form does not show)."""

    instance: Model
    cleaned_data: dict[str, Any]

    def siblings(self) -> QuerySet[Any]:
        raise NotImplementedError

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data.get("slug") or "").strip()
        others = self.siblings().exclude(pk=self.instance.pk)
        if not slug:
            return free_slug(slugify(str(self.cleaned_data.get("name") or "")), others)
        if others.filter(slug=slug).exists():
            raise forms.ValidationError(_("This address name is already taken."))
        return slug


class ClientForm(SlugFormMixin, forms.ModelForm):
    instance: Client

    class Meta:
        model = Client
        fields = ["name", "slug"]
        help_texts = {"slug": SLUG_HELP}

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization_id = organization_id
        self.fields["slug"].required = False
        # The name is judged before the slug is made from it.
        self.order_fields(["name", "slug"])

    def siblings(self) -> QuerySet[Client]:
        return Client.objects.filter(organization_id=self.instance.organization_id)


class SiteForm(SlugFormMixin, forms.ModelForm):
    url = forms.URLField(
        label=gettext_lazy("Address"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("The site's home page, e.g. https://example.com/"),
    )

    instance: Site

    class Meta:
        model = Site
        fields = ["name", "slug", "url", "time_zone"]
        help_texts = {
            "slug": SLUG_HELP,
            "time_zone": gettext_lazy("Where the site's business happens, e.g. Europe/Warsaw."),
        }

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.client = client
        self.fields["slug"].required = False

    def siblings(self) -> QuerySet[Site]:
        return Site.objects.filter(client_id=self.instance.client_id)
