"""Every date, time and date-time field of sitecare's forms writes its value in ISO form, in
Polish too: a browser's date/time input drops any other value (``07.12.2026``), and the form
then comes back with "this field is required"."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date, datetime, time

import pytest
from django import forms
from django.utils import translation

from front.widgets import ISO_WIDGETS

# Packages whose modules define forms (front's views and forms modules, the domain apps).
FORM_PACKAGES = ("front", "incidents", "monitoring", "sla", "sites", "tenancy", "api")
SAMPLES = {
    forms.DateTimeField: (datetime(2026, 12, 7, 21, 2), r"2026-12-07T21:02"),
    forms.DateField: (date(2026, 12, 7), r"2026-12-07"),
    forms.TimeField: (time(21, 2), r"21:02"),
}


def _project_forms() -> list[type[forms.BaseForm]]:
    """Every form class defined in sitecare's own modules (tests and migrations left out)."""
    for package in FORM_PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".tests" in info.name or ".migrations" in info.name or "management" in info.name:
                continue
            importlib.import_module(info.name)
    found: list[type[forms.BaseForm]] = []
    pending: list[type] = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in FORM_PACKAGES:
            found.append(cls)
    return found


def _date_fields() -> list[tuple[str, forms.Field]]:
    fields: list[tuple[str, forms.Field]] = []
    for form in _project_forms():
        declared: dict[str, forms.Field] = form.base_fields  # type: ignore[attr-defined]
        for name, field in declared.items():
            if isinstance(field, (forms.DateField, forms.TimeField, forms.DateTimeField)):
                fields.append((f"{form.__module__}.{form.__qualname__}.{name}", field))
    return fields


def test_it_finds_the_forms_with_dates_and_times() -> None:
    names = {name for name, _field in DATE_FIELDS}
    assert "front.views.maintenance.WindowForm.start_date" in names
    assert "front.views.oncall.ScheduleForm.starts_on" in names
    assert "front.views.oncall.OverrideForm.starts_at" in names
    assert "front.forms_plans.ClientPlanForm.starts_on" in names


DATE_FIELDS = _date_fields()


@pytest.mark.parametrize(("name", "field"), DATE_FIELDS, ids=[name for name, _f in DATE_FIELDS])
def test_it_renders_the_value_in_iso_form_in_polish(name: str, field: forms.Field) -> None:
    value, expected = next(s for kind, s in SAMPLES.items() if isinstance(field, kind))
    with translation.override("pl"):
        html = field.widget.render("f", value)
    assert isinstance(field.widget, ISO_WIDGETS), f"{name} uses {type(field.widget).__name__}"
    assert re.search(rf'value="{expected}"', html), f"{name}: {html}"
