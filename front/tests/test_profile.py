"""Personal API tokens: shown once, stored hashed, revocable only by their owner."""

from __future__ import annotations

from django.urls import reverse

from front.tests.conftest import signed_in
from tenancy.models import ApiToken, hash_token


def test_it_shows_a_new_token_once_and_stores_only_its_hash(world):
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:token_create"), {"name": "deploy script"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    raw = response.context["raw"]
    assert raw.startswith("sc_")
    assert raw in response.content.decode()
    token = ApiToken.objects.get(user=world.engineer)
    assert token.token_hash == hash_token(raw)
    assert raw not in {token.name, token.hint, token.token_hash}
    profile = browser.get(reverse("front:profile")).content.decode()
    assert "deploy script" in profile
    assert token.hint in profile
    assert raw not in profile


def test_it_refuses_a_token_without_a_name(world):
    browser = signed_in(world.engineer)
    response = browser.post(reverse("front:token_create"), {"name": ""})
    assert response.status_code == 200
    assert response.context["token_form"].errors
    assert not ApiToken.objects.exists()


def test_it_revokes_only_the_user_s_own_tokens(world):
    mine, _ = ApiToken.issue(world.client_a_user, "mine")
    theirs, _ = ApiToken.issue(world.owner, "theirs")
    browser = signed_in(world.client_a_user)
    foreign = browser.post(reverse("front:token_revoke"), {"token": theirs.pk})
    assert foreign.status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    response = browser.post(reverse("front:token_revoke"), {"token": mine.pk}, follow=True)
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
    assert "revoked" in response.content.decode()


def test_it_lists_no_other_user_s_tokens(world):
    ApiToken.issue(world.owner, "owner's secret tool")
    html = signed_in(world.engineer).get(reverse("front:profile")).content.decode()
    assert "secret tool" not in html
