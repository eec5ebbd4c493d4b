"""Monitor forms: generated from each kind's options model, validated by parse_monitor, saved,
paused, resumed, cloned and deleted by agency members; client users get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import make_user
from front.tests.conftest import signed_in
from front.tests.monitor_posts import form_data
from incidents.models import Incident, StatusComponent, StatusPage
from monitoring.models import CheckKind, CheckResult, Monitor, PauseAction, PauseEvent, PauseVia
from tenancy.models import Organization, Role

pytestmark = pytest.mark.django_db


def new_url(world, kind: str) -> str:
    return reverse("front:monitor_new", args=[world.site_a.pk]) + f"?kind={kind}"


def test_it_renders_a_form_of_its_own_fields_for_every_kind(world):
    browser = signed_in(world.owner)
    for kind in CheckKind.values:
        response = browser.get(new_url(world, kind))
        assert response.status_code == 200, kind
        form = response.context["form"]
        # Kind-specific fields, never a JSON box of options.
        assert "config" not in form.fields
        assert set(response.context["option_names"]) <= set(form.fields)
    http = browser.get(new_url(world, "http")).content.decode()
    assert 'type="number" name="timeout" value="10.0" step="any" max="120"' in http
    assert '<select name="method"' in http and 'name="follow_redirects"' in http
    assert 'name="basic_auth__password"' in http and 'name="headers"' in http


def test_it_offers_the_kinds_when_none_is_named(world):
    response = signed_in(world.engineer).get(reverse("front:monitor_new", args=[world.site_a.pk]))
    assert response.status_code == 200
    assert [k["value"] for k in response.context["kinds"]] == list(CheckKind.values)


def test_it_saves_an_http_monitor_with_its_options(world):
    browser = signed_in(world.owner)
    data = form_data(
        "http",
        name="Koszyk",
        url="https://a.example/cart",
        keyword="Do kasy",
        headers="X-Shop: a\nX-Token: sekret",
        json_assert='$.status == "ok"',
        basic_auth__username="jan",
        basic_auth__password="tajne",
        interval="120",
    )
    response = browser.post(new_url(world, "http"), data)
    monitor = Monitor.objects.get(name="Koszyk")
    assert response.status_code == 302
    assert response["Location"] == reverse("front:monitor", args=[monitor.pk])
    assert monitor.interval_s == 120 and monitor.site == world.site_a and monitor.enabled
    assert monitor.config == {
        "keyword": "Do kasy",
        "headers": {"X-Shop": "a", "X-Token": "sekret"},
        "json_assert": ['$.status == "ok"'],
        "basic_auth": {"username": "jan", "password": "tajne"},
    }


def test_it_never_shows_secrets_back_and_blank_keeps_them(world):
    monitor = world.monitor_a
    monitor.config = {
        "headers": {"X-Token": "sekret"},
        "basic_auth": {"username": "jan", "password": "tajne"},
    }
    monitor.save()
    browser = signed_in(world.engineer)
    url = reverse("front:monitor_edit", args=[monitor.pk])
    page = browser.get(url).content.decode()
    assert "sekret" not in page and "tajne" not in page
    assert "X-Token: ***" in page and 'value="jan"' in page
    typed = form_data("http", monitor=monitor, name="Home 2", keyword="Witaj")
    assert typed.get("basic_auth__password", "") == ""  # shown blank, posted blank
    response = browser.post(url, typed)
    assert response.status_code == 302
    monitor.refresh_from_db()
    assert monitor.name == "Home 2"
    assert monitor.config["headers"] == {"X-Token": "sekret"}
    assert monitor.config["basic_auth"] == {"username": "jan", "password": "tajne"}
    assert monitor.config["keyword"] == "Witaj"


def test_it_shows_each_error_on_its_field_in_polish(world):
    browser = signed_in(world.owner)
    data = form_data("http", name="X", url="https://a.example/", timeout="500", method="HEAD")
    data["keyword"] = "koszyk"
    response = browser.post(new_url(world, "http"), data, HTTP_ACCEPT_LANGUAGE="pl")
    errors = response.context["form"].errors
    assert set(errors) == {"timeout", "keyword"}
    assert errors["timeout"] == ["musi wynosić co najwyżej 120"]
    assert not Monitor.objects.filter(name="X").exists()


def test_it_labels_word_choices_in_the_readers_language_and_keeps_their_values(world):
    """A Literal's values ("present", "open") are what the API and YAML take; the select and
    the default in its help read in the page's language, each request anew."""
    browser = signed_in(world.owner)
    polish = browser.get(new_url(world, "http"), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert '<option value="present" selected>obecne</option>' in polish
    assert "Domyślnie: obecne" in polish
    # A nested field reads in the language asked too (its label was frozen in English).
    assert "Uwierzytelnianie Basic · nazwa użytkownika" in polish
    tcp = browser.get(new_url(world, "tcp"), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert '<option value="closed">zamknięty</option>' in tcp
    english = browser.get(new_url(world, "http"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="present" selected>present</option>' in english
    assert "Default: present" in english


def test_it_refuses_a_name_the_site_already_uses_on_the_name_field(world):
    data = form_data("http", name="Home", url="https://a.example/")
    response = signed_in(world.owner).post(new_url(world, "http"), data)
    assert "name" in response.context["form"].errors
    assert Monitor.objects.filter(site=world.site_a, name="Home").count() == 1


def test_it_creates_a_heartbeat_with_a_ping_token_of_its_own(world):
    data = form_data("heartbeat", name="Backup", period="3600", grace="600")
    response = signed_in(world.owner).post(new_url(world, "heartbeat"), data)
    monitor = Monitor.objects.get(name="Backup")
    assert response.status_code == 302
    assert len(monitor.url) >= 22 and monitor.config == {"period": 3600, "grace": 600}
    page = signed_in(world.owner).get(reverse("front:monitor", args=[monitor.pk]))
    assert f"/ping/{monitor.url}" in page.content.decode()


def test_it_records_a_new_monitor_made_paused(world):
    data = form_data("tcp", name="SMTP", url="mail.a.example:587")
    del data["enabled"]
    signed_in(world.owner).post(new_url(world, "tcp"), data)
    monitor = Monitor.objects.get(name="SMTP")
    assert not monitor.enabled
    event = PauseEvent.objects.get(monitor=monitor)
    assert (event.action, event.via, event.user) == (PauseAction.PAUSED, PauseVia.WEB, world.owner)


def test_it_pauses_and_resumes_with_who_and_when_on_the_timeline(world):
    browser = signed_in(world.engineer)
    monitor = world.monitor_a
    browser.post(reverse("front:monitor_pause", args=[monitor.pk]))
    monitor.refresh_from_db()
    assert not monitor.enabled
    browser.post(reverse("front:monitor_resume", args=[monitor.pk]))
    monitor.refresh_from_db()
    assert monitor.enabled
    events = list(PauseEvent.objects.filter(monitor=monitor).order_by("at", "pk"))
    assert [(e.action, e.via, e.user) for e in events] == [
        (PauseAction.PAUSED, PauseVia.WEB, world.engineer),
        (PauseAction.RESUMED, PauseVia.WEB, world.engineer),
    ]
    timeline = browser.get(reverse("front:monitor", args=[monitor.pk])).context["timeline"]
    assert [entry.pause for entry in timeline if entry.pause] == events[::-1]


def test_it_clones_paused_or_checking_and_a_heartbeat_gets_a_new_token(world):
    browser = signed_in(world.owner)
    url = reverse("front:monitor_clone", args=[world.monitor_a.pk])
    assert browser.get(url).status_code == 200
    browser.post(url, {"start": "paused"})
    browser.post(url, {"start": "checking"})
    first, second = Monitor.objects.filter(name__startswith="Home (").order_by("pk")
    assert (first.name, first.enabled) == ("Home (copy)", False)
    assert (second.name, second.enabled) == ("Home (copy 2)", True)
    assert first.url == world.monitor_a.url and first.config == world.monitor_a.config
    assert PauseEvent.objects.filter(monitor=first, action=PauseAction.PAUSED).exists()
    beat = Monitor.objects.create(site=world.site_a, name="Cron", kind="heartbeat", url="t" * 22)
    browser.post(reverse("front:monitor_clone", args=[beat.pk]), {"start": "checking"})
    copy = Monitor.objects.get(name="Cron (copy)")
    assert copy.url != beat.url and len(copy.url) >= 22


def test_it_says_what_goes_with_a_monitor_before_deleting_it(world):
    monitor = world.monitor_a
    CheckResult.objects.create(monitor=monitor, checked_at=monitor.created_at, ok=True)
    Incident.objects.create(monitor=monitor, opened_at=monitor.created_at)
    page = StatusPage.objects.create(client=world.client_a, slug="a", title="A")
    StatusComponent.objects.create(page=page, monitor=monitor, name="Sklep")
    browser = signed_in(world.owner)
    url = reverse("front:monitor_delete", args=[monitor.pk])
    summary = browser.get(url, HTTP_ACCEPT_LANGUAGE="en").context["summary"]
    assert (summary.results, summary.incidents, summary.components) == (1, 1, 1)
    text = browser.get(url).content.decode()
    assert "1 check result" in text and "1 incident" in text and "1 status page component" in text
    assert Monitor.objects.filter(pk=monitor.pk).exists(), "a GET deletes nothing"
    response = browser.post(url)
    assert response["Location"] == reverse("front:site", args=[world.site_a.pk])
    assert not Monitor.objects.filter(pk=monitor.pk).exists()
    assert not StatusComponent.objects.exists()


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_answers_404_to_client_users_on_every_monitor_form(world, persona):
    browser = signed_in(getattr(world, persona))
    monitor, site = world.monitor_a, world.site_a
    gets = [
        reverse("front:monitor_new", args=[site.pk]) + "?kind=http",
        reverse("front:monitor_edit", args=[monitor.pk]),
        reverse("front:monitor_clone", args=[monitor.pk]),
        reverse("front:monitor_delete", args=[monitor.pk]),
    ]
    for url in gets:
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, {"start": "checking"}).status_code == 404, url
    for name in ("monitor_pause", "monitor_resume"):
        assert browser.post(reverse(f"front:{name}", args=[monitor.pk])).status_code == 404
    test_url = reverse("front:monitor_test", args=[site.pk])
    assert browser.post(test_url, {"kind": "http"}).status_code == 404
    assert Monitor.objects.filter(pk=monitor.pk, enabled=True).exists()
    assert Monitor.objects.count() == 2
    page = browser.get(reverse("front:monitor", args=[monitor.pk]))
    if persona == "client_a_user":
        assert reverse("front:monitor_edit", args=[monitor.pk]) not in page.content.decode()
    else:
        assert page.status_code == 404


def test_it_answers_404_for_another_agencys_site(world):
    other = Organization.objects.create(name="Other", slug="other")
    stranger = make_user("stranger", other, Role.OWNER)
    browser = signed_in(stranger)
    assert browser.get(new_url(world, "http")).status_code == 404
    assert browser.get(reverse("front:monitor_edit", args=[world.monitor_a.pk])).status_code == 404


ROUND_TRIP = [
    (
        "http",
        "https://a.example/",
        {"method": "POST", "body": "{}", "json_assert": ["$.ok == true"]},
    ),
    ("tcp", "db.a.example:5432", {"expect": "closed"}),
    ("tls", "a.example:8443", {"warn_days": 30, "check_chain": False, "min_version": "TLS1.3"}),
    ("dns", "a.example", {"record_type": "MX", "expected": ["10 mx.a.example"], "match": "any"}),
    ("domain", "a.example", {"warn_days": 60}),
    ("seo", "https://a.example/", {"check_sitemap": False, "canonical": "ignore"}),
    ("content", "https://a.example/terms", {"selector": "main", "ignore": ["\\d+ views"]}),
    ("heartbeat", "", {"cron": "0 3 * * *", "time_zone": "Europe/Warsaw", "grace": 900}),
]


@pytest.mark.parametrize(("kind", "url", "config"), ROUND_TRIP, ids=[r[0] for r in ROUND_TRIP])
def test_it_shows_a_stored_monitor_back_so_saving_unchanged_changes_nothing(
    world, kind, url, config
):
    monitor = Monitor.objects.create(
        site=world.site_a, name="Round", kind=kind, url=url or "x" * 22, config=config
    )
    browser = signed_in(world.owner)
    edit = reverse("front:monitor_edit", args=[monitor.pk])
    response = browser.post(edit, form_data(kind, monitor=monitor))
    assert response.status_code == 302, response.context["form"].errors
    stored = Monitor.objects.get(pk=monitor.pk)
    assert (stored.config, stored.url, stored.enabled) == (config, monitor.url, True)
