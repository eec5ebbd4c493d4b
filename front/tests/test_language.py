"""The page language: the browser's by default, the profile's when chosen."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from front.tests.conftest import signed_in
from tenancy.models import Membership


@pytest.mark.django_db
def test_it_follows_the_browser_s_accept_language():
    response = HttpClient().get(reverse("front:login"), headers={"accept-language": "pl"})
    assert response.headers["Content-Language"] == "pl"
    assert '<html lang="pl">' in response.content.decode()


def test_it_lets_the_profile_language_override_the_browser(world):
    Membership.objects.filter(user=world.owner).update(language="en")
    browser = signed_in(world.owner)
    response = browser.get(reverse("front:dashboard"), headers={"accept-language": "pl"})
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()


def test_it_saves_the_language_chosen_on_the_profile(world):
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:profile_language"), {"language": "pl"})
    assert response.status_code == 302
    assert Membership.objects.get(user=world.engineer).language == "pl"
    page = browser.get(reverse("front:dashboard"), headers={"accept-language": "en"})
    assert '<html lang="pl">' in page.content.decode()


def test_it_goes_back_to_the_browser_language_when_the_profile_is_blank(world):
    Membership.objects.filter(user=world.engineer).update(language="pl")
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:profile_language"), {"language": ""})
    assert response.status_code == 302
    page = browser.get(reverse("front:dashboard"), headers={"accept-language": "en"})
    assert '<html lang="en">' in page.content.decode()


def test_it_switches_language_from_the_header_and_remembers_it(world):
    browser = signed_in(world.client_a_user)
    response = browser.post(
        reverse("front:set_language"), {"language": "pl", "next": reverse("front:channels")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("front:channels")
    assert Membership.objects.get(user=world.client_a_user).language == "pl"


def test_it_never_redirects_the_language_switch_off_site(world):
    browser = signed_in(world.client_a_user)
    response = browser.post(
        reverse("front:set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("front:dashboard")


@pytest.mark.django_db
def test_it_switches_language_before_sign_in_with_a_cookie():
    browser = HttpClient()
    browser.post(reverse("front:set_language"), {"language": "pl", "next": "/login/"})
    response = browser.get(reverse("front:login"), headers={"accept-language": "en"})
    assert '<html lang="pl">' in response.content.decode()
