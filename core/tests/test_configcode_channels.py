"""Config as code for channel routing and texts: site, min_severity, templates."""

from __future__ import annotations

import pytest

from core.configcode import ConfigError, apply_config, export_config
from incidents.models import Channel
from tenancy.models import Organization

DOCUMENT = """\
version: 1
agency: {slug: routed, name: Routed}
channels:
  - name: Night pager
    url: json://pager.example/hook
    min_severity: critical
clients:
  - slug: acme
    name: Acme
    channels:
      - name: Acme shop room
        url: json://chat.example/acme
        site: shop
        title_template: "{state}: {site}"
        body_template: "{monitor} ({reason}) since {since} {{ literal }}"
    sites:
      - slug: shop
        name: Acme shop
      - slug: blog
        name: Acme blog
"""


def test_it_applies_channel_routing_and_templates_idempotently(db):
    report = apply_config(DOCUMENT)
    assert not report.is_empty
    pager = Channel.objects.get(name="Night pager")
    room = Channel.objects.get(name="Acme shop room")
    assert (pager.client_id, pager.site_id, pager.min_severity) == (None, None, "critical")
    assert room.site is not None and room.site.slug == "shop"
    assert room.client_id == room.site.client_id
    assert room.title_template == "{state}: {site}"
    assert room.body_template == "{monitor} ({reason}) since {since} {{ literal }}"
    again = apply_config(DOCUMENT)
    assert again.is_empty, again.render()


def test_it_moves_a_channel_to_another_site_and_shows_the_change(db):
    apply_config(DOCUMENT)
    moved = DOCUMENT.replace("site: shop", "site: blog")
    report = apply_config(moved)
    assert "blog" in report.render()
    room = Channel.objects.select_related("site").get(name="Acme shop room")
    assert room.site is not None and room.site.slug == "blog"


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        ("site: shop", "site: cart", "clients[0].channels[0].site", "no site cart"),
        (
            "    min_severity: critical\n",
            "    min_severity: critical\n    site: shop\n",
            "channels[0].site",
            "only a client's channel",
        ),
        ('"{state}: {site}"', '"{state} {site.__class__}"', "title_template", "{site.__class__}"),
        ("min_severity: critical", "min_severity: urgent", "channels[0].min_severity", ""),
    ],
)
def test_it_refuses_bad_channel_fields_with_their_path(db, old, new, path, words):
    with pytest.raises(ConfigError) as refused:
        apply_config(DOCUMENT.replace(old, new))
    text = str(refused.value)
    assert path in text
    assert words in text
    assert not Channel.objects.exists()


def test_it_exports_routing_and_templates_for_apply(db, monkeypatch):
    apply_config(DOCUMENT)
    text = export_config(Organization.objects.get(slug="routed"))
    assert "site: shop" in text
    assert "min_severity: critical" in text
    assert "{monitor} ({reason}) since {since} {{ literal }}" in text
    assert "chat.example" not in text  # URLs stay placeholders
    monkeypatch.setenv("SITECARE_CHANNEL_NIGHT_PAGER", "json://pager.example/hook")
    monkeypatch.setenv("SITECARE_CHANNEL_ACME_SHOP_ROOM", "json://chat.example/acme")
    report = apply_config(text)
    assert report.is_empty, report.render()


def test_it_sets_the_agency_flap_window(db):
    apply_config(DOCUMENT.replace("name: Routed}", "name: Routed, flap_window_seconds: 120}"))
    org = Organization.objects.get(slug="routed")
    assert org.flap_window_seconds == 120
    assert "flap_window_seconds: 120" in export_config(org)
    with pytest.raises(ConfigError) as refused:
        apply_config(DOCUMENT.replace("name: Routed}", "name: Routed, flap_window_seconds: -1}"))
    assert "agency.flap_window_seconds" in str(refused.value)
    kept = apply_config(DOCUMENT)  # left out: the stored window stays
    assert "flap_window_seconds" not in kept.render()
    assert Organization.objects.get(slug="routed").flap_window_seconds == 120
    stated = DOCUMENT.replace("name: Routed}", "name: Routed, flap_window_seconds: 600}")
    assert "flap_window_seconds" in apply_config(stated).render()
    assert Organization.objects.get(slug="routed").flap_window_seconds == 600
