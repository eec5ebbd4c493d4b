"""What a signed-in session must carry to stay valid, and what the account asks of it.

A session records, when it signs in, the user's session epoch and whether it passed the
second step. It stays valid while the epoch is unchanged (two-factor sign-in was not turned
on or off since) and, for a user with two-factor sign-in, only if it passed the second step: a
session made any other way (a future login path, ``Client.login`` in a test) is not enough.

``standing`` is the one place that says what a request's session is: nobody, a session that
must end, one that must enrol in two-factor sign-in first, or a fully signed-in one. The web
(``front.signin_guard``) and the API's session authentication (``api.auth``) both ask it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

EPOCH_KEY = "sitecare_epoch"
VERIFIED_KEY = "sitecare_two_factor"


@dataclass(frozen=True)
class SignInState:
    epoch: int
    two_factor: bool  # two-factor sign-in is on for the user
    required: bool  # the user's agency requires it

    @property
    def must_enrol(self) -> bool:
        return self.required and not self.two_factor


# What the state is read from, loaded with the user of every signed-in request in the same
# query (``tenancy.passwords.PasswordBackend.get_user``): judging a session then costs none.
USER_RELATIONS = ("two_factor", "membership__organization")
# Never needed for it, and decrypted whenever loaded.
USER_DEFERRED = ("two_factor__secret",)


def loaded_state(user: AbstractBaseUser) -> SignInState:
    """The user's epoch, whether two-factor sign-in is on, and whether the agency asks for it,
    from the user's relations as loaded with it (a query for each one that was not)."""
    # A missing record or membership raises RelatedObjectDoesNotExist, an AttributeError.
    record = getattr(user, "two_factor", None)
    membership = getattr(user, "membership", None)
    return SignInState(
        epoch=record.session_epoch if record is not None else 0,
        two_factor=record is not None and record.enabled,
        required=membership is not None and membership.organization.require_two_factor,
    )


def state_of(user: AbstractBaseUser) -> SignInState:
    """The user's state as stored now (one query): after changing it, or for a user loaded
    without its relations."""
    users = get_user_model()._default_manager.select_related(*USER_RELATIONS)
    fresh = users.defer(*USER_DEFERRED).filter(pk=user.pk).first()
    if fresh is None:
        return SignInState(epoch=0, two_factor=False, required=False)
    return loaded_state(fresh)


def remember(session: SessionBase, state: SignInState, *, passed_second_step: bool) -> None:
    """Write into a session what it signed in under."""
    session[EPOCH_KEY] = state.epoch
    session[VERIFIED_KEY] = passed_second_step


def is_valid(session: SessionBase, state: SignInState) -> bool:
    """Whether a signed-in session may go on."""
    if int(session.get(EPOCH_KEY, 0)) != state.epoch:
        return False
    return not state.two_factor or bool(session.get(VERIFIED_KEY, False))


class Standing(enum.Enum):
    """What the session of a request amounts to."""

    NOBODY = "nobody"  # not signed in
    ENDED = "ended"  # signed in under an older epoch, or skipped the second step: sign out
    MUST_ENROL = "must_enrol"  # valid, but the agency requires two-factor sign-in first
    SIGNED_IN = "signed_in"  # passed the whole sign-in and meets the agency's requirement


class EnrolmentRequired(Exception):
    """A session whose user must set up two-factor sign-in before using anything."""


# Where ``standing`` keeps its answer on the request (asked by the middleware and the API).
_CACHE = "_sitecare_standing"


def standing(request: HttpRequest) -> Standing:
    """What the session of ``request`` amounts to (asked once per request, then remembered)."""
    found = getattr(request, _CACHE, None)
    if isinstance(found, Standing):
        return found
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        found = Standing.NOBODY
    else:
        # The user of this request was loaded with its relations: no query here.
        state = loaded_state(user)
        if not is_valid(request.session, state):
            found = Standing.ENDED
        elif state.must_enrol:
            found = Standing.MUST_ENROL
        else:
            found = Standing.SIGNED_IN
    setattr(request, _CACHE, found)
    return found


def forget_standing(request: HttpRequest) -> None:
    """After signing the request out: ask again."""
    if hasattr(request, _CACHE):
        delattr(request, _CACHE)
