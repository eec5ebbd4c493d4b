"""What every signed-in request costs the sign-in guard: nothing beyond loading its user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import User
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from front.tests.conftest import signed_in
from tenancy.models import Organization
from tenancy.scoping import scope_for
from tenancy.signin_state import Standing, remember, standing, state_of
from tenancy.tests.test_two_factor import enrolled


def _nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def test_it_judges_a_session_from_the_one_query_that_loads_its_user(
    world, django_assert_num_queries
):
    # Every relation the judgement reads exists: a two-factor record, a membership whose
    # agency requires it.
    Organization.objects.filter(pk=world.agency.pk).update(require_two_factor=True)
    enrolled(world.owner)
    browser = signed_in(world.owner)
    session = browser.session
    remember(session, state_of(world.owner), passed_second_step=True)
    session.save()
    request = RequestFactory().get("/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = str(session.session_key)
    SessionMiddleware(_nothing).process_request(request)
    AuthenticationMiddleware(_nothing).process_request(request)
    # The session, then the user with its two-factor record, membership and agency; what the
    # language middleware and the scoping helper read of the membership comes with it.
    with django_assert_num_queries(2):
        assert standing(request) is Standing.SIGNED_IN
        user = request.user
        assert isinstance(user, User)
        assert scope_for(user).organization_id == world.agency.pk
        assert user.membership.language == ""
