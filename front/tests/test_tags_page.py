"""The tags page: owners and engineers create, rename, recolour and delete the agency's tags;
client users never reach it; names are unique in the agency whatever their case."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from front.tests.conftest import signed_in
from monitoring.models import Tag, TagColour
from monitoring.tags import PALETTE, TEXT_COLOUR, contrast_ratio
from tenancy.models import Organization

TAGS = reverse("front:tags")


def test_it_keeps_every_tag_colour_readable_at_wcag_aa():
    assert set(PALETTE) == set(TagColour.values)
    for colour, background in PALETTE.items():
        assert contrast_ratio(TEXT_COLOUR, background) >= 4.5, colour


def test_it_paints_each_colour_as_the_palette_says():
    """The CSS classes use the palette's colours (the contrast test judges these)."""
    css = (Path(settings.BASE_DIR) / "static/css/sitecare.css").read_text()
    for colour, background in PALETTE.items():
        assert f".tag--{colour} {{ background: {background}; }}" in css


def test_it_creates_renames_recolours_and_deletes_a_tag(world):
    browser = signed_in(world.engineer)
    response = browser.post(TAGS, {"name": " Sklepy ", "colour": "green"})
    assert response.status_code == 302
    tag = Tag.objects.get(organization=world.agency)
    assert (tag.name, tag.colour) == ("Sklepy", "green")
    world.monitor_a.tags.add(tag)
    response = browser.post(reverse("front:tag", args=[tag.pk]), {"name": "Shops", "colour": "red"})
    assert response.status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.colour) == ("Shops", "red")
    assert list(world.monitor_a.tags.all()) == [tag]
    page = browser.get(TAGS).content.decode()
    assert '<span class="tag tag--red">Shops</span>' in page
    response = browser.post(reverse("front:tag_delete"), {"tag": tag.pk})
    assert response.status_code == 302
    assert not Tag.objects.exists()
    assert world.monitor_a.tags.count() == 0


def test_it_refuses_a_name_the_agency_has_in_another_case(world):
    Tag.objects.create(organization=world.agency, name="Sklepy")
    Tag.objects.create(organization=Organization.objects.create(name="O", slug="o"), name="VIP")
    browser = signed_in(world.owner)
    response = browser.post(TAGS, {"name": "SKLEPY", "colour": "blue"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["The agency already has a tag of this name."]
    }
    # Another agency's tag of the same name is no obstacle.
    assert browser.post(TAGS, {"name": "vip", "colour": "blue"}).status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "colour": "blue"}, "name", "This field is required."),
        ({"name": "a,b", "colour": "blue"}, "name", "A tag name cannot contain a comma."),
        ({"name": "x" * 51, "colour": "blue"}, "name",
         "Ensure this value has at most 50 characters (it has 51)."),
        ({"name": "Shop", "colour": "yellow"}, "colour",
         "Select a valid choice. yellow is not one of the available choices."),
    ],
)  # fmt: skip
def test_it_names_the_field_of_a_bad_tag(world, data, field, message):
    response = signed_in(world.owner).post(TAGS, data)
    assert response.context["form"].errors[field] == [message]
    assert not Tag.objects.exists()


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_hides_the_tags_pages_from_client_users(world, persona):
    tag = Tag.objects.create(organization=world.agency, name="Sklepy")
    browser = signed_in(getattr(world, persona))
    assert browser.get(TAGS).status_code == 404
    assert browser.post(TAGS, {"name": "Mine", "colour": "blue"}).status_code == 404
    assert (
        browser.post(
            reverse("front:tag", args=[tag.pk]), {"name": "X", "colour": "red"}
        ).status_code
        == 404
    )
    assert browser.post(reverse("front:tag_delete"), {"tag": tag.pk}).status_code == 404
    assert list(Tag.objects.values_list("name", flat=True)) == ["Sklepy"]


def test_it_gives_404_for_another_agencys_tag(world):
    theirs = Tag.objects.create(
        organization=Organization.objects.create(name="O", slug="o"), name="T"
    )
    browser = signed_in(world.owner)
    assert browser.get(reverse("front:tag", args=[theirs.pk])).status_code == 404
    assert browser.post(reverse("front:tag_delete"), {"tag": theirs.pk}).status_code == 404
    assert Tag.objects.filter(pk=theirs.pk).exists()
