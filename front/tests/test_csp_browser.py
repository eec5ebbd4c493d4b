"""The application pages under their Content-Security-Policy, in a real browser (Debian's
Chromium via Playwright): every main page, the admin and the API docs load with the strict
policy, their stylesheet applies, and Chromium reports no violation and no script error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from front.security_headers import APP_CSP
from front.tests.conftest import PASSWORD, signed_in
from incidents.models import Channel, EscalationPolicy
from sitecare.tests.browser import needs_chromium
from sla.models import CarePlan
from tenancy.tests.test_two_factor import enrolled

pytestmark = needs_chromium
# The top bar's background from sitecare.css: proof that the stylesheet applied.
TOPBAR_BACKGROUND = "rgb(17, 24, 39)"
# The "Failing" highlight in the admin's channel list, from sitecare-admin.css.
FAILING_COLOUR = "rgb(180, 83, 9)"


@dataclass
class Visit:
    session: str  # the session cookie of the user who opens them
    paths: list[str]


@pytest.fixture
def visits(world, incident_a) -> list[Visit]:
    """Sessions and pages, made before the browser starts (Playwright's event loop in this
    thread stops Django from using the database here; the live server has its own)."""
    plan = CarePlan.objects.filter(organization=world.agency).first()
    policy = EscalationPolicy.objects.filter(organization=world.agency).first()
    owner_pages = [
        "/",
        f"/clients/{world.client_a.pk}/",
        f"/sites/{world.site_a.pk}/",
        f"/monitors/{world.monitor_a.pk}/",
        "/incidents/",
        f"/incidents/{incident_a.pk}/",
        "/channels/",
        "/oncall/",
        "/oncall/new/",
        "/escalation/",
        "/escalation/new/",
        "/sla/",
        f"/clients/{world.client_a.pk}/sla/",
        f"/clients/{world.client_a.pk}/plan/",
        f"/clients/{world.client_a.pk}/maintenance/",
        f"/clients/{world.client_a.pk}/status-pages/",
        "/plans/",
        "/plans/new/",
        "/profile/",
        "/profile/two-factor/",
        "/api/v1/docs",
    ]
    if plan is not None:
        owner_pages.append(f"/plans/{plan.pk}/")
    if policy is not None:
        owner_pages.append(f"/escalation/{policy.pk}/")
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    root = HttpClient()
    assert root.login(username="root", password=PASSWORD)
    # A failing channel: its list shows the highlighted "Failing" column.
    Channel.objects.filter(name="A hook").update(consecutive_failures=3)
    # Every admin list (several render columns of their own), and a few forms.
    admin_pages = [
        "/admin/",
        *(
            f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            for model in admin.site._registry
        ),
        f"/admin/tenancy/organization/{world.agency.pk}/change/",
        f"/admin/auth/user/{world.owner.pk}/change/",
        "/admin/incidents/channel/add/",
    ]
    # The code step of a user with two-factor sign-in, after the password.
    enrolled(world.client_b_user)
    pending = HttpClient()
    pending.post(reverse("front:login"), {"username": "bob", "password": PASSWORD})
    return [
        Visit(signed_in(world.owner).cookies["sessionid"].value, owner_pages),
        Visit(signed_in(world.client_a_user).cookies["sessionid"].value, ["/", "/profile/"]),
        Visit(root.cookies["sessionid"].value, admin_pages),
        Visit(pending.cookies["sessionid"].value, ["/login/code/"]),
        Visit("", ["/login/"]),
    ]


class Problems:
    """What Chromium reports while the pages load: CSP violations and script errors."""

    def __init__(self) -> None:
        self.path = ""
        self.found: list[str] = []

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(f"{self.path}: {message.text}")

    def page_error(self, error: Any) -> None:
        self.found.append(f"{self.path}: {error}")


def test_it_serves_every_main_page_under_a_strict_policy_without_a_violation(
    visits, live_server, browser
):
    assert "'unsafe-inline'" not in APP_CSP and "'unsafe-eval'" not in APP_CSP
    problems = Problems()
    for visit in visits:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        if visit.session:
            cookie = {"name": "sessionid", "value": visit.session, "url": live_server.url}
            context.add_cookies([cookie])
        tab = context.new_page()
        tab.on("console", problems.console)
        tab.on("pageerror", problems.page_error)
        for path in visit.paths:
            problems.path = path
            response = tab.goto(live_server.url + path)
            assert response is not None, path
            assert response.status == 200, (path, response.status)
            assert response.headers["content-security-policy"] == APP_CSP, path
            tab.wait_for_load_state("networkidle")
            if path == "/api/v1/docs":
                # Swagger UI ran, from our own static files, and read the OpenAPI document.
                tab.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
            if not path.startswith(("/admin/", "/api/")):
                background = tab.evaluate(
                    "getComputedStyle(document.querySelector('.topbar')).backgroundColor"
                )
                assert background == TOPBAR_BACKGROUND, path
            if path == "/admin/incidents/channel/":
                # The failing channel's highlight comes from the admin's stylesheet.
                colour = tab.evaluate(
                    "getComputedStyle(document.querySelector('.sitecare-failing')).color"
                )
                assert colour == FAILING_COLOUR
        context.close()
    assert problems.found == [], "\n".join(problems.found)


@pytest.fixture
def owner_session(world) -> str:
    return str(signed_in(world.owner).cookies["sessionid"].value)


def test_it_shows_the_pages_that_answer_a_form_without_a_violation(
    owner_session, live_server, browser
):
    """The new token's page and the recovery codes shown when two-factor sign-in turns on."""
    problems = Problems()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": owner_session, "url": live_server.url}])
    tab = context.new_page()
    tab.on("console", problems.console)
    tab.on("pageerror", problems.page_error)

    def submit(form: str) -> None:
        with tab.expect_navigation() as navigation:
            tab.click(f"{form} button[type=submit]")
        response = navigation.value
        assert response is not None and response.status == 200, problems.path
        assert response.headers["content-security-policy"] == APP_CSP, problems.path
        tab.wait_for_load_state("networkidle")

    problems.path = "token created"
    tab.goto(live_server.url + reverse("front:profile"))
    token_form = f"form[action='{reverse('front:token_create')}']"
    tab.fill(f"{token_form} input[name=name]", "deploy script")
    submit(token_form)
    assert "sc_" in tab.content()
    problems.path = "recovery codes"
    tab.goto(live_server.url + reverse("front:two_factor"))
    secret = "".join(tab.inner_text("#secret-key").split())
    tab.fill("input[name=code]", pyotp.TOTP(secret).now())
    submit(f"form[action='{reverse('front:two_factor')}']")
    assert "recovery" in tab.content().lower()
    context.close()
    assert problems.found == [], "\n".join(problems.found)
