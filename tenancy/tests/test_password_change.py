"""A changed password ends the API tokens too, on every path, except tokens made to survive it."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from api.tests.conftest import ApiCaller
from front.tests.conftest import PASSWORD, signed_in, signed_in_superuser
from tenancy.models import ApiToken

NEW_PASSWORD = "a-quite-different-one-77"


def tokens_of(user: User) -> tuple[str, str]:
    """A plain token and one made to survive password changes; their raw values."""
    _plain, plain = ApiToken.issue(user, "laptop")
    _kept, kept = ApiToken.issue(user, "backup job", survives_password_change=True)
    return plain, kept


def works(raw: str) -> bool:
    return ApiCaller(raw).get("/me").status_code == 200


def test_it_ends_other_sessions_and_tokens_on_a_password_change_on_the_profile(world):
    plain, kept = tokens_of(world.engineer)
    other_session = signed_in(world.engineer)
    browser = signed_in(world.engineer)
    response = browser.post(
        reverse("front:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Your password is changed" in text
    assert "1 token made to survive password changes is kept." in text
    assert not works(plain)
    assert works(kept)
    # This session goes on; the other one is signed out.
    assert browser.get(reverse("front:profile")).status_code == 200
    assert other_session.get(reverse("front:profile")).status_code == 302
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["backup job"]


def test_it_refuses_a_wrong_current_password_and_counts_it_as_a_failed_sign_in(world):
    plain, _kept = tokens_of(world.engineer)
    browser = signed_in(world.engineer)
    url = reverse("front:password_change")
    for number in range(6):
        response = browser.post(
            url,
            {
                "old_password": f"guess-{number}",
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 200
    errors = response.context["password_form"].errors["old_password"]
    assert len(errors) == 1 and errors[0].startswith("Too many failed attempts.")
    world.engineer.refresh_from_db()
    assert world.engineer.check_password(PASSWORD)
    assert works(plain)


def test_it_revokes_tokens_when_the_admin_sets_a_password(world):
    plain, kept = tokens_of(world.engineer)
    staff = signed_in_superuser()
    response = staff.post(
        f"/admin/auth/user/{world.engineer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert not works(plain)
    assert works(kept)


def test_it_revokes_tokens_when_changepassword_sets_a_password(world, monkeypatch):
    plain, kept = tokens_of(world.engineer)
    # The command asks a person at a terminal; here the person is this line.
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt=None: NEW_PASSWORD)
    call_command("changepassword", "engineer", stdout=None)
    assert not works(plain)
    assert works(kept)


def test_it_revokes_tokens_on_set_password_but_not_when_a_sign_in_rehashes(world, settings):
    plain, kept = tokens_of(world.engineer)
    # A sign-in that moves the stored hash to the preferred hasher changes no password.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert (
        HttpClient()
        .post(reverse("front:login"), {"username": "engineer", "password": PASSWORD})
        .status_code
        == 302
    )
    world.engineer.refresh_from_db()
    assert world.engineer.password.startswith("pbkdf2_sha256$")
    assert works(plain)
    world.engineer.set_password(NEW_PASSWORD)
    world.engineer.save()
    assert not works(plain)
    assert works(kept)


def test_it_makes_a_surviving_token_only_with_the_current_password(world):
    browser = signed_in(world.engineer)
    url = reverse("front:token_create")
    refused = browser.post(
        url, {"name": "backup job", "survives_password_change": "on", "password": "wrong"}
    )
    assert refused.status_code == 200
    assert refused.context["token_form"].errors["password"] == [
        "This is not your current password."
    ]
    assert not ApiToken.objects.exists()
    made = browser.post(
        url, {"name": "backup job", "survives_password_change": "on", "password": PASSWORD}
    )
    assert made.status_code == 200
    token = ApiToken.objects.get()
    assert token.survives_password_change
    browser.post(url, {"name": "laptop"})
    profile = browser.get(reverse("front:profile")).content.decode()
    assert "On a password change" in profile
    assert profile.count(">kept<") == 1 and profile.count(">revoked<") == 1
    listed = ApiCaller(made.context["raw"]).get("/tokens").json()
    assert {item["name"]: item["survives_password_change"] for item in listed["items"]} == {
        "backup job": True,
        "laptop": False,
    }


def test_it_revokes_tokens_when_the_admin_disables_password_sign_in(world):
    plain, kept = tokens_of(world.engineer)
    staff = signed_in_superuser()
    response = staff.post(
        f"/admin/auth/user/{world.engineer.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302
    world.engineer.refresh_from_db()
    assert not world.engineer.has_usable_password()
    assert not works(plain)
    assert works(kept)


def test_it_revokes_tokens_whatever_way_the_stored_password_changes(world):
    first, kept = tokens_of(world.engineer)
    world.engineer.password = make_password("another-password-77")
    world.engineer.save()
    assert not works(first)
    second, _kept = tokens_of(world.engineer)
    User.objects.filter(pk=world.engineer.pk).update(password=make_password("third-pass-77"))
    assert not works(second)
    third, _kept = tokens_of(world.engineer)
    world.engineer.refresh_from_db()
    world.engineer.set_unusable_password()
    world.engineer.save(update_fields=["password"])
    assert not works(third)
    assert works(kept)
    # A revoked token is gone for good, not only refused.
    assert not ApiToken.objects.filter(name="laptop").exists()


def test_it_keeps_tokens_when_a_password_check_on_the_profile_rehashes(world, settings):
    plain, _kept = tokens_of(world.engineer)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    browser = signed_in(world.engineer)
    made = browser.post(
        reverse("front:token_create"),
        {"name": "backup job", "survives_password_change": "on", "password": PASSWORD},
    )
    assert made.status_code == 200
    world.engineer.refresh_from_db()
    assert world.engineer.password.startswith("pbkdf2_sha256$")
    assert works(plain)


def test_it_says_only_what_a_password_change_ended(world):
    browser = signed_in(world.engineer)

    def change(old: str, new: str) -> list[str]:
        data = {"old_password": old, "new_password1": new, "new_password2": new}
        response = browser.post(reverse("front:password_change"), data, follow=True)
        return [str(message) for message in response.context["messages"]]

    assert change(PASSWORD, NEW_PASSWORD) == [
        "Your password is changed. Your other sessions are signed out."
    ]
    ApiToken.issue(world.engineer, "laptop")
    ApiToken.issue(world.engineer, "phone")
    assert change(NEW_PASSWORD, PASSWORD) == [
        "Your password is changed. Your other sessions are signed out. 2 API tokens are revoked."
    ]
