"""Tags in config as code: a top-level ``tags:`` list and ``tags:`` on monitors, validated as a
whole with YAML paths, shown in the dry-run diff, applied idempotently, exported, pruned."""

from __future__ import annotations

import pytest

from core.configcode import apply_config, export_config
from core.tests.configcode_support import refused
from monitoring.models import Monitor, Tag
from tenancy.models import Organization

DOCUMENT = """\
version: 1
agency: {slug: tagged, name: Tagged}
tags:
  - {name: Sklepy, colour: green}
  - {name: VIP, colour: red}
  - name: Blogs
clients:
  - slug: acme
    name: Acme
    sites:
      - slug: shop
        name: Acme shop
        monitors:
          - {name: Home, url: "https://shop.acme.example/", tags: [sklepy, VIP]}
          - {name: Cart, url: "https://shop.acme.example/cart"}
"""


def tags_of(name: str) -> list[str]:
    return sorted(t.name for t in Monitor.objects.get(name=name).tags.all())


def test_it_applies_tags_and_monitor_tags_idempotently(db):
    report = apply_config(DOCUMENT)
    org = Organization.objects.get(slug="tagged")
    assert sorted(Tag.objects.filter(organization=org).values_list("name", "colour")) == [
        ("Blogs", "blue"),
        ("Sklepy", "green"),
        ("VIP", "red"),
    ]
    assert tags_of("Home") == ["Sklepy", "VIP"]
    assert tags_of("Cart") == []
    assert "+ tag VIP" in report.render()
    assert apply_config(DOCUMENT).is_empty


def test_it_shows_tag_changes_in_the_dry_run_and_writes_nothing(db):
    apply_config(DOCUMENT)
    changed = DOCUMENT.replace("{name: VIP, colour: red}", "{name: VIP, colour: purple}").replace(
        "tags: [sklepy, VIP]", "tags: [Blogs]"
    )
    text = apply_config(changed, dry_run=True).render()
    assert '~ tag VIP\n    colour: "red" → "purple"' in text
    assert '    tags: ["Sklepy", "VIP"] → ["Blogs"]' in text
    assert tags_of("Home") == ["Sklepy", "VIP"]
    apply_config(changed)
    assert tags_of("Home") == ["Blogs"]
    assert Tag.objects.get(name="VIP").colour == "purple"


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        ("tags: [sklepy, VIP]", "tags: [Nope]", "clients[0].sites[0].monitors[0].tags[0]",
         "no tag Nope in this file's tags list"),
        ("tags: [sklepy, VIP]", "tags: VIP", "clients[0].sites[0].monitors[0].tags",
         "must be a list of tag names"),
        ("tags: [sklepy, VIP]", "tags: [[VIP]]", "clients[0].sites[0].monitors[0].tags[0]",
         "must be text, a tag's name"),
        ("{name: VIP, colour: red}", "{name: VIP, colour: yellow}", "tags[1].colour",
         "must be one of: 'slate', 'red'"),
        ("  - name: Blogs", "  - name: sklepy", "tags[2].name",
         "duplicate tag name sklepy (names differ in more than case), also at tags[0].name"),
        ("  - name: Blogs", '  - name: "a,b"', "tags[2].name",
         "A tag name cannot contain a comma."),
    ],
)  # fmt: skip
def test_it_refuses_bad_tags_with_their_path(db, old, new, path, words):
    assert old in DOCUMENT
    error = refused(DOCUMENT.replace(old, new))
    assert any(f"{path}: {words}" in message for message in error.messages()), error.messages()
    assert not Tag.objects.exists() and not Monitor.objects.exists()


def test_it_exports_tags_for_apply_with_an_empty_diff(db):
    apply_config(DOCUMENT)
    exported = export_config(Organization.objects.get(slug="tagged"))
    assert "tags:\n- name: Blogs\n- name: Sklepy\n  colour: green\n" in exported
    assert "tags:\n      - Sklepy\n      - VIP\n" in exported
    assert apply_config(exported).is_empty


def test_it_reports_stale_tags_and_deletes_them_with_prune(db):
    apply_config(DOCUMENT)
    without = DOCUMENT.replace("  - name: Blogs\n", "")
    assert "tag Blogs" in " ".join(apply_config(without).not_in_file)
    assert Tag.objects.filter(name="Blogs").exists()
    report = apply_config(without, prune=True)
    assert "- tag Blogs" in report.render()
    assert not Tag.objects.filter(name="Blogs").exists()
    assert tags_of("Home") == ["Sklepy", "VIP"]
