"""The one check of names shown to others: control characters and text-direction marks are
refused with one message naming the character; every other letter and sign is fine."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sitecare.lib.names import check_name, validate_name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Shop\x00", "U+0000"),
        ("Shop\nA", "U+000A"),
        ("Shop\tA", "U+0009"),
        ("Shop\x7f", "U+007F"),
        ("Shop\x85", "U+0085"),
        ("invoice\u202efdp.exe", "U+202E"),
        ("\u202aShop", "U+202A"),
        ("Shop\u2066A\u2069", "U+2066"),
        ("Shop\u200f", "U+200F"),
        ("Shop\u2028A", "U+2028"),
    ],
)
def test_it_refuses_control_characters_and_text_direction_marks(name, code):
    message = f"Control characters and text-direction marks are not allowed here (found {code})."
    with pytest.raises(ValueError, match=r"found U\+"):
        check_name(name)
    with pytest.raises(ValidationError) as caught:
        validate_name(name)
    assert caught.value.messages == [message]


@pytest.mark.parametrize(
    "name", ["Sklep Łódź – główna", "שלום", "مرحبا", "Zespół 👩\u200d💻", "a  b", "東京"]
)
def test_it_accepts_names_in_any_script(name):
    assert check_name(name) == name
    validate_name(name)
