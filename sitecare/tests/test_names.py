"""The one check of names shown to others: control characters, text-direction marks and
invisible characters are refused with one message naming the character; every other letter and
sign is fine, and the joiners and variation selectors that shape what is shown are kept."""

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
        # Invisible: format characters, fillers, joiners and selectors that change nothing.
        ("Default\u200b", "U+200B"),
        ("Default\ufeff", "U+FEFF"),
        ("Default\u2060", "U+2060"),
        ("Def\u00adault", "U+00AD"),
        ("Default\ufff9", "U+FFF9"),
        ("Default\U000e0041", "U+E0041"),
        ("Default\u180e", "U+180E"),
        ("Default\u206a", "U+206A"),
        ("Default\u034f", "U+034F"),
        ("\u115fDefault", "U+115F"),
        ("\u3164", "U+3164"),
        ("Default\uffa0", "U+FFA0"),
        ("Default\u2800", "U+2800"),
        ("De\u200dfault", "U+200D"),
        ("\u200cDefault", "U+200C"),
        ("Default\u200d", "U+200D"),
        ("Default\ufe0f", "U+FE0F"),
        ("Caf\u00e9\ufe0f", "U+FE0F"),
        ("1\ufe0f", "U+FE0F"),
    ],
)
def test_it_refuses_control_characters_and_text_direction_marks(name, code):
    message = (
        "Invisible characters, control characters and text-direction marks are not allowed "
        f"here (found {code})."
    )
    with pytest.raises(ValueError, match=r"found U\+"):
        check_name(name)
    with pytest.raises(ValidationError) as caught:
        validate_name(name)
    assert caught.value.messages == [message]


@pytest.mark.parametrize(
    "name",
    [
        "Sklep Łódź – główna",
        "שלום",
        "مرحبا",
        "Zespół 👩\u200d💻",
        "a  b",
        "東京",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: ZWNJ between letters
        "\u0915\u094d\u200d\u0937",  # Devanagari: ZWJ after a virama
        "Pride \U0001f3f3\ufe0f\u200d\U0001f308",  # an emoji sequence through a selector
        "Kod 1\ufe0f\u20e3",  # a keycap
        "Serce \u2764\ufe0f",
        "\u845b\U000e0100",  # an ideographic variation
    ],
)
def test_it_accepts_names_in_any_script(name):
    assert check_name(name) == name
    validate_name(name)


@pytest.mark.parametrize("name", [" ", "\u3000", " \u00a0 "])
def test_it_refuses_a_name_with_nothing_visible(name):
    with pytest.raises(ValueError, match=r"A name needs at least one visible character\."):
        check_name(name)


def test_it_strips_surrounding_spaces_as_the_web_forms_do():
    assert check_name("  Shop A ") == "Shop A"
