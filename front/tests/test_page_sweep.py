"""The screenshot sweep: every page of the web UI, in Polish and English, at 1,366 and 390 px,
in Debian's Chromium; it fails on a page or table that overflows sideways, on English
msgids in the Polish pages and on any WCAG 2 A/AA violation axe-core reports. Screenshots
and the report land in ``$SITECARE_TEST_ARTIFACTS`` (default ``test-artifacts/``) under
``page-sweep/``. The pages and the layout rule: :mod:`front.tests.page_sweep`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from conftest import make_user
from front.tests.conftest import PASSWORD, signed_in
from front.tests.page_sweep import (
    ANONYMOUS,
    AXE_FILE,
    AXE_RUN,
    AXE_TAGS,
    CLIENT,
    ERROR_PATHS,
    LAYOUT_PROBLEMS,
    NOT_PAGES,
    OWNER,
    PAGES,
    PENDING,
    POST_ONLY_KWARGS,
    VISIBLE_TEXTS,
    EnglishFinder,
    Page,
)
from front.tests.speed_world import speed_monitor_with_trend
from front.tests.transaction_world import seed_failed_run
from incidents.ack import ack_token
from incidents.models import (
    Channel,
    EscalationPolicy,
    Incident,
    IncidentState,
    MaintenanceWindow,
    PublicUpdate,
    StatusComponent,
    StatusPage,
    UpdateStatus,
)
from incidents.models.oncall import OnCallSchedule
from incidents.tests.statuspages import reset_caches
from monitoring.checks import heartbeat
from monitoring.models import (
    CheckKind,
    HeartbeatPing,
    Monitor,
    MonitorState,
    PingKind,
    Tag,
    TagColour,
)
from sitecare.tests.browser import needs_chromium
from sites.models import Site
from sla.models import CarePlan
from sla.tests.overview_world import NOW, build_agency
from tenancy.models import Client, Membership, Organization, Role
from tenancy.tests.test_two_factor import enrolled

pytestmark = needs_chromium
MOMENT = NOW + timedelta(hours=10)  # inside the agency's October (sla.tests.overview_world)
LANGUAGES = ("pl", "en")
WIDTHS = (1366, 390)
SWEPT_NAMESPACES = {"front", "status", "core"}
SERVER_ERROR_PATH = "/__sweep__/server-error/"  # answered by the browser with 500.html


def artifacts_dir() -> Path:
    base = os.environ.get("SITECARE_TEST_ARTIFACTS") or Path(settings.BASE_DIR) / "test-artifacts"
    return Path(base) / "page-sweep"


@dataclass
class Visit:
    page: Page | None  # None: an error page
    persona: str
    path: str
    via_path: str = ""  # the page whose form answers with this one


@dataclass
class Sweep:
    """What the browser part needs, read before it starts (Playwright's event loop in this
    thread stops Django from using the database here)."""

    visits: list[Visit]
    sessions: dict[tuple[str, str], str]  # (persona, language) -> session cookie
    server_error: dict[str, str]  # language -> the 500 page
    user_data: set[str]
    english: EnglishFinder


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(MOMENT):  # ticking: the live server and the browser keep time
        yield


def sweep_objects(world, incident_a) -> dict[str, Any]:
    """Client A's objects of a demo-like agency: plans and standings for seven clients, an open
    incident with a public update, a published status page, windows, schedules, policies."""
    reset_caches()  # the subscribe rate limit of earlier tests' pages lives outside the database
    build_agency(world)
    # The widest top bar: the demo agency's "Demo shop" link (and the staff's "Administration").
    Organization.objects.filter(pk=world.agency.pk).update(slug="demo")
    checkout = Monitor.objects.create(
        site=world.site_a,
        name="Checkout",
        kind=CheckKind.HTTP,
        url="https://a.example/checkout",
        state=MonitorState.DOWN,
        state_since=MOMENT - timedelta(minutes=25),
    )
    incident_open = Incident.objects.create(
        monitor=checkout,
        state=IncidentState.OPEN,
        opened_at=MOMENT - timedelta(minutes=25),
        message="HTTP 500",
    )
    PublicUpdate.objects.create(
        incident=incident_open,
        status=UpdateStatus.INVESTIGATING,
        body="Checkout fails; we are on it.",
        posted_at=MOMENT - timedelta(minutes=20),
    )
    status_page = StatusPage.objects.create(
        client=world.client_a, slug="shop-a-status", title="Shop A", published=True
    )
    StatusComponent.objects.create(page=status_page, monitor=world.monitor_a, name="Shop")
    StatusComponent.objects.create(page=status_page, monitor=checkout, name="Checkout")
    window = MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Upgrade",
        start_date=(MOMENT + timedelta(days=2)).date(),
        start_time=time(2),
        duration_minutes=60,
    )
    schedule = OnCallSchedule.objects.create(organization=world.agency, name="Nights")
    policy = EscalationPolicy.objects.create(organization=world.agency, name="Critical")
    plan = CarePlan.objects.filter(organization=world.agency).order_by("pk").first()
    shop = Tag.objects.create(organization=world.agency, name="Shop", colour=TagColour.TEAL)
    critical = Tag.objects.create(organization=world.agency, name="Critical", colour=TagColour.RED)
    world.monitor_a.tags.add(shop)
    checkout.tags.add(shop, critical)
    backup = Monitor.objects.create(
        site=world.site_a,
        name="Nightly backup",
        kind=CheckKind.HEARTBEAT,
        url=heartbeat.new_token(),
        config={"period": 86400, "grace": 1800},
        state=MonitorState.UP,
        state_since=MOMENT - timedelta(days=3),
        first_ping_at=MOMENT - timedelta(days=30),
    )
    backup.tags.add(critical)
    speed = speed_monitor_with_trend(world.site_a, MOMENT)
    for days, kind, code, body in (
        (2, PingKind.FAIL, 2, "rsync: connection unexpectedly closed"),
        (1, PingKind.START, None, ""),
        (1, PingKind.SUCCESS, 0, "backup done: 1.2 GB"),
    ):
        HeartbeatPing.objects.create(
            monitor=backup,
            received_at=MOMENT - timedelta(days=days, minutes=5 if code is None else 0),
            kind=kind,
            exit_code=code,
            body=body,
            remote_addr="203.0.113.7",
            user_agent="curl/8.5.0",
        )
    transaction, run, _shot, _trace = seed_failed_run(world)
    return {
        "transaction": transaction.pk,
        "transaction_run": run.pk,
        "client_a": world.client_a.pk,
        "site_a": world.site_a.pk,
        "monitor_a": world.monitor_a.pk,
        "heartbeat": backup.pk,
        "speed": speed.pk,
        "tag": critical.pk,
        "incident_a": incident_a.pk,
        "incident_open": incident_open.pk,
        "ack_token": ack_token(incident_open),
        "plan": plan.pk if plan else 0,
        "window": window.pk,
        "policy": policy.pk,
        "schedule": schedule.pk,
        "status_page": status_page.pk,
        "status_slug": status_page.slug,
        "channel": Channel.objects.get(name="A hook").pk,
        "stale": "no-such-token",
    }


def sweep_sessions(world) -> dict[tuple[str, str], str]:
    """A session per persona and language: the language is the member's, so a pair of users
    (the owners are staff, so their top bar has every link)."""
    Membership.objects.filter(user=world.owner).update(language="en")
    Membership.objects.filter(user=world.client_a_user).update(language="en")
    users = {
        (OWNER, "en"): world.owner,
        (OWNER, "pl"): make_user("ola", world.agency, Role.OWNER),
        (CLIENT, "en"): world.client_a_user,
        (CLIENT, "pl"): make_user("ala", world.agency, Role.CLIENT, world.client_a),
    }
    Membership.objects.filter(user__username__in=["ola", "ala"]).update(language="pl")
    User.objects.filter(pk__in=[users[(OWNER, lang)].pk for lang in LANGUAGES]).update(
        is_staff=True
    )
    sessions = {key: signed_in(user).cookies["sessionid"].value for key, user in users.items()}
    # Between the password and the code (the code page's language is the browser's).
    enrolled(world.client_b_user)
    pending = HttpClient()
    pending.post(reverse("front:login"), {"username": "bob", "password": PASSWORD})
    for language in LANGUAGES:
        sessions[(PENDING, language)] = pending.cookies["sessionid"].value
    return sessions


def user_data(world) -> set[str]:
    """Names people gave things: shown as typed, in whatever language they were typed."""
    names = set(Membership.objects.values_list("user__username", flat=True))
    for model, attr in (
        (Client, "name"),
        (Site, "name"),
        (Monitor, "name"),
        (CarePlan, "name"),
        (Channel, "name"),
        (StatusPage, "title"),
        (StatusComponent, "name"),
        (MaintenanceWindow, "title"),
        (Tag, "name"),
        (OnCallSchedule, "name"),
        (EscalationPolicy, "name"),
    ):
        names.update(str(v) for v in model.objects.values_list(attr, flat=True))
    return names


@pytest.fixture
def sweep(clock, world, incident_a) -> Sweep:
    objects = sweep_objects(world, incident_a)
    visits: list[Visit] = []
    for page in PAGES:
        kwargs = {param: objects[key] for param, key in page.kwargs.items()}
        via = reverse(page.via, kwargs=kwargs) + page.via_query if page.via else ""
        path = reverse(page.name, kwargs=kwargs) + page.query.format(**objects)
        visits.append(Visit(page, page.persona, path, via))
    visits += [Visit(None, persona, path) for persona, path in ERROR_PATHS]
    visits.append(Visit(None, ANONYMOUS, SERVER_ERROR_PATH))
    server_error: dict[str, str] = {}
    for language in LANGUAGES:
        with translation.override(language):
            server_error[language] = str(render_to_string("500.html"))
    mo_file = Path(settings.BASE_DIR) / "locale" / "pl" / "LC_MESSAGES" / "django.mo"
    return Sweep(
        visits, sweep_sessions(world), server_error, user_data(world), EnglishFinder(mo_file)
    )


def swept_names(patterns: list[URLPattern | URLResolver], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            names |= swept_names(entry.url_patterns, entry.namespace or namespace)
        elif entry.name and namespace in SWEPT_NAMESPACES:
            names.add(f"{namespace}:{entry.name}")
    return names


def test_it_lists_every_page_of_the_web_ui_in_the_sweep(world):
    """A new page fails here until it is in PAGES (or, if it is no page, in NOT_PAGES)."""
    names = swept_names(get_resolver().url_patterns)
    assert len(names) > 40  # the walk found the patterns
    listed = {page.name for page in PAGES}
    assert sorted(names - listed - set(NOT_PAGES)) == []
    assert sorted((listed | set(NOT_PAGES)) - names) == []  # nothing listed that is gone
    assert not listed & set(NOT_PAGES)
    # "post-only" is checked, so a page cannot hide among the actions.
    owner = signed_in(world.owner)
    for name, why in NOT_PAGES.items():
        if why == "post-only":
            kwargs = {k: getattr(world, v).pk for k, v in POST_ONLY_KWARGS.get(name, {}).items()}
            assert owner.get(reverse(name, kwargs=kwargs)).status_code == 405, name


def open_page(tab: Any, base: str, visit: Visit) -> tuple[int, str]:
    """Go to the page (through its form when it answers one): (status, where)."""
    page, path = visit.page, visit.path
    if page is not None and visit.via_path:
        tab.goto(base + visit.via_path)
        form = tab.locator(f"form[action='{path}'], form:has([formaction='{path}'])")
        for field_name, value in page.form.items():
            form.locator(f"[name='{field_name}']").fill(value)
        for selector in page.check:
            for box in form.locator(selector).all():
                box.check()
        with tab.expect_navigation() as navigation:
            form.locator(page.submit).click()
        response = navigation.value
    else:
        response = tab.goto(base + path)
    assert response is not None, path
    return response.status, tab.url


def check_page(tab: Any, sweep: Sweep, language: str, width: int) -> list[str]:
    """The layout, language and accessibility problems of the page shown."""
    problems = list(tab.evaluate(LAYOUT_PROBLEMS, width > 720))
    if language == "pl":
        texts = [(str(t), str(lang)) for t, lang in tab.evaluate(VISIBLE_TEXTS)]
        problems += [f"English: {t!r}" for t in sweep.english.english(texts, sweep.user_data)]
    for violation in tab.evaluate(AXE_RUN, AXE_TAGS):
        nodes = "\n      ".join(violation["nodes"][:6])
        problems.append(f"axe {violation['id']} ({violation['impact']}): {violation['help']}")
        problems.append(f"      {nodes}")
    return problems


@pytest.mark.timeout(600)  # ~100 page visits × 4 (languages × widths): 2–3 min on 2 cores
def test_it_sweeps_every_page_in_both_languages_at_both_widths(sweep, live_server, browser):
    assert AXE_FILE.exists(), "axe-core is missing: `make node-deps` (npm ci) installs it"
    out = artifacts_dir()
    shutil.rmtree(out, ignore_errors=True)  # screenshots of this run only
    report: list[str] = []
    for language in LANGUAGES:
        for width in WIDTHS:
            shots = out / f"{language}-{width}"
            shots.mkdir(parents=True, exist_ok=True)
            context = browser.new_context(
                viewport={"width": width, "height": 900},
                locale="pl-PL" if language == "pl" else "en-GB",
                bypass_csp=True,  # lets the test inject axe-core; test_csp_browser checks CSP
            )
            body = sweep.server_error[language]
            context.route(
                f"**{SERVER_ERROR_PATH}",
                lambda route, _request, body=body: route.fulfill(
                    status=500, content_type="text/html", body=body
                ),
            )
            context.add_init_script(path=str(AXE_FILE))  # into every page, before its own
            tab = context.new_page()
            for visit in sweep.visits:
                page, path = visit.page, visit.path
                context.clear_cookies()
                session = sweep.sessions.get((visit.persona, language))
                if session:
                    context.add_cookies(
                        [{"name": "sessionid", "value": session, "url": live_server.url}]
                    )
                label = page.label if page else f"error_{visit.persona}_{path.strip('/')}"
                label = label.replace("/", "-")
                status, where = open_page(tab, live_server.url, visit)
                expected = page.status if page else (500 if path == SERVER_ERROR_PATH else 404)
                problems = [] if status == expected else [f"answered {status}, not {expected}"]
                problems += check_page(tab, sweep, language, width)
                tab.screenshot(path=str(shots / f"{label}.png"), full_page=True)
                report += [f"{language} {width} {label} ({where}): {p}" for p in problems]
            context.close()
    (out / "report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    assert report == [], "\n".join(report)


def test_it_finds_english_msgids_among_polish_texts_but_not_user_data_or_marked_english():
    mo_file = Path(settings.BASE_DIR) / "locale" / "pl" / "LC_MESSAGES" / "django.mo"
    finder = EnglishFinder(mo_file)
    texts = [
        ("Pulpit", "pl"),  # translated
        ("  Stop\n refreshing ", "pl"),  # an untranslated msgid, however it is wrapped
        ("Dashboard", "pl-PL"),
        ("For 3 minutes: no answer, the incident stays open", "pl"),  # no msgid
        ("Sign out", "en"),  # marked as English (the language switch)
        ("Incidents", "pl"),  # a client named so: user data
        ("Times are shown in Europe/Warsaw.", "pl"),  # a msgid with a placeholder
    ]
    assert finder.english(texts, user_data={"Incidents"}) == [
        "Stop refreshing",
        "Dashboard",
        "Times are shown in Europe/Warsaw.",
    ]
