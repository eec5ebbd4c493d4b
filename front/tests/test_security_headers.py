"""Security headers: the strict Content-Security-Policy on application pages, the status pages'
own stricter one, and HSTS from the environment behind an HTTPS proxy."""

from __future__ import annotations

from django.test import Client as HttpClient
from django.urls import reverse

from front.security_headers import APP_CSP
from front.tests.conftest import signed_in
from front.views.status_public import PAGE_CSP
from incidents.models import StatusPage
from sitecare.tests.processes import fresh_env, last_json, run_python


def test_it_sends_the_strict_policy_on_application_pages_and_keeps_the_status_pages_own(world):
    browser = signed_in(world.owner)
    for url in (
        reverse("front:dashboard"),
        reverse("front:profile"),
        reverse("front:client_sla", args=[world.client_a.pk]),
    ):
        policy = browser.get(url)["Content-Security-Policy"]
        assert policy == APP_CSP, url
    assert HttpClient().get(reverse("front:login"))["Content-Security-Policy"] == APP_CSP
    for directive in ("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert directive in APP_CSP
    assert "unsafe-inline" not in APP_CSP
    # The status pages keep their own, stricter policy.
    page = StatusPage.objects.create(
        client=world.client_a, title="Shop A status", slug="shop-a", published=True
    )
    response = HttpClient().get(f"/status/{page.slug}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == PAGE_CSP


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
answer = Client().get("/login/", headers={"x-forwarded-proto": "https"})
plain = Client().get("/login/")
print(json.dumps({
    "hsts": answer.headers.get("Strict-Transport-Security"),
    "plain": plain.headers.get("Strict-Transport-Security"),
    "seconds": settings.SECURE_HSTS_SECONDS,
}))
"""


def test_it_sends_hsts_set_in_the_environment_on_requests_the_https_proxy_forwards(tmp_path):
    env = fresh_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="sitecare.settings",
        SITECARE_ALLOWED_HOSTS="testserver",
        SITECARE_BEHIND_HTTPS_PROXY="true",
        SITECARE_HSTS_SECONDS="31536000",
        SITECARE_HSTS_INCLUDE_SUBDOMAINS="true",
    )
    seen = last_json(run_python("-c", PROBE, env=env, timeout=60))
    assert seen == {
        "hsts": "max-age=31536000; includeSubDomains",
        "plain": None,
        "seconds": 31536000,
    }
