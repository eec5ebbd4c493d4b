"""A kind's own errors (a transaction step's unknown variable) come out of ``parse_monitor``
with their place and message, beside the built-in ones, and their message reads as written
(no doubled braces around ``${CARD}``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitoring.spec import parse_monitor
from sitecare.lib.validation_messages import error_message


def test_it_carries_a_kinds_own_errors_with_the_others():
    data = {
        "name": "Purchase",
        "kind": "transaction",
        "url": "https://shop.example/",
        "interval": 1,
        "steps": [
            {"action": "goto", "url": "/"},
            {"action": "fill", "label": "Card", "value": "${CARD}"},
        ],
    }
    with pytest.raises(ValidationError) as refused:
        parse_monitor(data, ())
    found = {error["loc"]: error for error in refused.value.errors()}
    assert set(found) == {("interval",), ("steps", 1, "value")}
    assert error_message(found[("steps", 1, "value")]) == "unknown variable ${CARD}"
    assert found[("interval",)]["type"] == "value_error"
