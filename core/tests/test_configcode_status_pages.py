"""Status pages in config as code: created with their components, diffed, exported, pruned,
checked as a whole with errors naming the YAML path."""

from __future__ import annotations

import pytest

from core.configcode import ConfigError, apply_config, export_config
from core.configcode.report import Action, ObjectKind
from incidents.models import StatusComponent, StatusPage
from sites.models import Site
from tenancy.models import Client, Organization

DOCUMENT = """\
version: 1
agency: {slug: pages, name: Pages, network_allowlist: [127.0.0.0/8]}
clients:
  - slug: acme
    name: Acme
    sites:
      - slug: shop
        name: Shop
        monitors:
          - {name: Home, url: "http://127.0.0.1:8000/"}
          - {name: Checkout, url: "http://127.0.0.1:8000/checkout"}
    status_pages:
      - slug: acme-status
        title: Acme status
        custom_domain: Status.Acme.Example
        accent_color: "#0F766E"
        logo_url: https://acme.example/logo.png
        agency_name: Pages agency
        published: true
        subscriptions: false
        components:
          - {site: shop, monitor: Checkout, name: Payments}
          - {site: shop, monitor: Home, name: Storefront}
"""


def _components(page: StatusPage) -> list[tuple[str, str]]:
    rows = page.components.order_by("position").values_list("name", "monitor__name")
    return list(rows)


def test_it_creates_a_page_with_its_components_idempotently(db):
    report = apply_config(DOCUMENT)
    assert report.count(Action.CREATE) == 1 + 1 + 1 + 2 + 1
    page = StatusPage.objects.get(slug="acme-status")
    assert (page.custom_domain, page.accent_color) == ("status.acme.example", "#0f766e")
    assert (page.published, page.allow_subscriptions) == (True, False)
    assert page.logo_url == "https://acme.example/logo.png"
    assert _components(page) == [("Payments", "Checkout"), ("Storefront", "Home")]
    assert apply_config(DOCUMENT).is_empty


def test_it_shows_a_change_in_the_dry_run_and_writes_it_after(db):
    apply_config(DOCUMENT)
    changed = DOCUMENT.replace("name: Payments", "name: Checkout").replace(
        "subscriptions: false", "subscriptions: true"
    )
    dry = apply_config(changed, dry_run=True)
    [change] = dry.changes
    assert (change.action, change.kind, change.label) == (
        Action.UPDATE,
        ObjectKind.STATUS_PAGE,
        "acme/acme-status",
    )
    assert {f.field for f in change.fields} == {"subscriptions", "components"}
    assert "Payments" in dry.render()
    page = StatusPage.objects.get()
    assert _components(page)[0] == ("Payments", "Checkout")
    apply_config(changed)
    page.refresh_from_db()
    assert page.allow_subscriptions
    assert _components(page) == [("Checkout", "Checkout"), ("Storefront", "Home")]


def test_it_keeps_omitted_page_fields_and_components(db):
    apply_config(DOCUMENT)
    start = DOCUMENT.index("        custom_domain")
    short = DOCUMENT[:start]  # only slug and title stay
    assert apply_config(short).is_empty
    page = StatusPage.objects.get()
    assert page.custom_domain == "status.acme.example" and len(_components(page)) == 2
    emptied = short + "        components: []\n"
    apply_config(emptied)
    assert StatusComponent.objects.count() == 0


def test_it_round_trips_through_export_and_prunes_a_dropped_page(db):
    apply_config(DOCUMENT)
    org = Organization.objects.get(slug="pages")
    text = export_config(org)
    assert "status_pages:" in text and "monitor: Checkout" in text
    assert apply_config(text).is_empty
    without = DOCUMENT[: DOCUMENT.index("    status_pages:")]
    kept = apply_config(without)
    assert "status page acme/acme-status" in kept.not_in_file
    assert StatusPage.objects.exists()
    pruned = apply_config(without, prune=True)
    assert [(c.action, c.kind) for c in pruned.changes] == [(Action.DELETE, ObjectKind.STATUS_PAGE)]
    assert not StatusPage.objects.exists()


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        ("monitor: Checkout, name", "monitor: Cart, name", "components[0].monitor", "Cart"),
        ("{site: shop, monitor: Home", "{site: blog, monitor: Home", "components[1].site", "blog"),
        ('"#0F766E"', "teal", "accent_color", "#rrggbb"),
        ("https://acme.example/logo.png", "http://acme.example/l.png", "logo_url", "https://"),
        ("Status.Acme.Example", "https://status.acme.example/", "custom_domain", "host name"),
        ("monitor: Checkout, name", "monitor: Home, name", "components[1].monitor", "already"),
        ("subscriptions: false", "subscriptions: maybe", "subscriptions", "true or false"),
        ("published: true", "published: true\n        colour: red", "colour", ""),
        ("name: Payments", 'name: "Pay\\u202ements"', "components[0].name", ""),
    ],
)
def test_it_refuses_a_bad_page_naming_the_path(db, old, new, path, words):
    with pytest.raises(ConfigError) as refused:
        apply_config(DOCUMENT.replace(old, new, 1))
    text = str(refused.value)
    assert f"clients[0].status_pages[0].{path}" in text
    assert words in text
    assert not StatusPage.objects.exists()


def test_it_refuses_an_address_name_or_domain_another_agency_uses(db):
    other = Organization.objects.create(slug="other", name="Other")
    client = Client.objects.create(organization=other, slug="x", name="X")
    Site.objects.create(client=client, slug="s", name="S")
    StatusPage.objects.create(
        client=client, slug="acme-status", title="Theirs", custom_domain="status.acme.example"
    )
    with pytest.raises(ConfigError) as refused:
        apply_config(DOCUMENT)
    text = str(refused.value)
    assert "status_pages[0].slug" in text and "status_pages[0].custom_domain" in text
    assert StatusPage.objects.get(slug="acme-status").title == "Theirs"
