"""What a signed-in session must carry to stay valid, and what the account asks of it.

A session records, when it signs in, the user's session epoch and whether it passed the
second step. It stays valid while the epoch is unchanged (two-factor sign-in was not turned
on or off since) and, for a user with two-factor sign-in, only if it passed the second step: a
session made any other way (a future login path, ``Client.login`` in a test) is not enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase

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


def state_of(user: AbstractBaseUser) -> SignInState:
    """The user's epoch, whether two-factor sign-in is on, and whether the agency asks for it
    (one query: this runs on every signed-in request)."""
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values(
            "two_factor__session_epoch",
            "two_factor__confirmed_at",
            "membership__organization__require_two_factor",
        )
        .first()
    )
    if row is None:
        return SignInState(epoch=0, two_factor=False, required=False)
    # Outer joins: a user without a record or a membership gets None in those columns.
    return SignInState(
        epoch=row["two_factor__session_epoch"] or 0,
        two_factor=row["two_factor__confirmed_at"] is not None,
        required=bool(row["membership__organization__require_two_factor"]),
    )


def remember(session: SessionBase, state: SignInState, *, passed_second_step: bool) -> None:
    """Write into a session what it signed in under."""
    session[EPOCH_KEY] = state.epoch
    session[VERIFIED_KEY] = passed_second_step


def is_valid(session: SessionBase, state: SignInState) -> bool:
    """Whether a signed-in session may go on."""
    if int(session.get(EPOCH_KEY, 0)) != state.epoch:
        return False
    return not state.two_factor or bool(session.get(VERIFIED_KEY, False))
