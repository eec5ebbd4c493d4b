"""What a browser posts on a monitor form, for the tests of the monitor pages."""

from __future__ import annotations

from typing import Any

from front.kind_forms import monitor_form_class
from monitoring.models import Monitor


def form_data(kind: str, monitor: Monitor | None = None, **typed: Any) -> dict[str, Any]:
    """What a browser posts: the form's shown values, then what the user typed."""
    form = monitor_form_class(kind)(monitor=monitor)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is True:
            data[name] = "on"
        elif value not in (False, None):
            data[name] = value
    data.update(typed)
    return {k: v for k, v in data.items() if v is not None}
