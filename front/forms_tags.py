"""The tag form: a name unique in the agency (whatever its case) and a colour of the palette."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from monitoring.models import Tag
from monitoring.tags import check_tag_name, name_key


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "colour"]
        widgets = {"colour": forms.RadioSelect(attrs={"class": "swatches"})}

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization_id = organization_id

    def clean_name(self) -> str:
        try:
            name = check_tag_name(self.cleaned_data["name"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        others = Tag.objects.filter(organization_id=self.instance.organization_id)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if any(
            name_key(other) == name_key(name) for other in others.values_list("name", flat=True)
        ):
            raise forms.ValidationError(_("The agency already has a tag of this name."))
        return name
