"""Heartbeat (push) monitor: jobs ping a secret URL; silence or a reported failure is an outage.

Nothing is probed. ``Monitor.url`` holds the secret token of the ping URL
(``{SITECARE_BASE_URL}/ping/<token>``); the verdict is worked out from the stored pings by
``monitoring.heartbeats``, which the probe engine runs as its own step.
"""

from __future__ import annotations

import re
import secrets
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _

# 22 URL-safe characters carry 132 bits: the shortest token we accept from config-as-code.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")
TOKEN_BYTES = 24
DEFAULT_PERIOD_S = 86_400
DEFAULT_GRACE_S = 3_600


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def normalize_target(value: str) -> str:
    """A heartbeat's target is its ping token; empty means "keep the stored one, or make one"."""
    value = value.strip()
    if not value:
        return value
    if not TOKEN_RE.fullmatch(value):
        raise ValueError(
            "must be empty (a new secret ping token is made) or an existing ping token "
            "(22-64 characters: letters, digits, '-' and '_')"
        )
    return value


def target_host(target: str) -> str | None:
    return None  # a heartbeat connects nowhere: the job comes to us


class Options(BaseModel):
    """When pings are expected: every ``period`` seconds or on a ``cron`` schedule, plus grace.

    ``max_runtime`` (seconds, optional): a job that sent ``/start`` and no result within it is
    late. With neither ``period`` nor ``cron`` the job is expected daily.
    """

    model_config = ConfigDict(extra="forbid")

    period: int | None = Field(
        default=None,
        ge=60,
        le=366 * 86_400,
        description=gettext_noop("seconds between pings; empty with no cron: daily"),
    )
    cron: str | None = Field(
        default=None, description=gettext_noop("a cron schedule of five fields, e.g. 0 3 * * *")
    )
    time_zone: str = Field(
        default="UTC", description=gettext_noop("the zone of the cron schedule, e.g. Europe/Warsaw")
    )
    grace: int = Field(
        default=DEFAULT_GRACE_S,
        ge=0,
        le=366 * 86_400,
        description=gettext_noop("seconds a ping may be late before the job counts as down"),
    )
    max_runtime: int | None = Field(
        default=None,
        ge=1,
        le=7 * 86_400,
        description=gettext_noop("seconds a started job may run before it counts as late"),
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        # Five fields only: a seconds field would make a heartbeat that no cron daemon runs.
        if len(value.split(" ")) != 5 or not croniter.is_valid(value):
            raise ValueError(_("must be a cron expression of five fields, e.g. '0 3 * * *'"))
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                _("unknown time zone %(zone)r (e.g. 'Europe/Warsaw')") % {"zone": value}
            ) from None
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> Self:
        if self.period is not None and self.cron is not None:
            raise ValueError(_("give either period or cron, not both"))
        if self.cron is None and self.time_zone != "UTC":
            raise ValueError(_("time_zone applies to a cron schedule only"))
        return self

    @property
    def period_s(self) -> int:
        return self.period if self.period is not None else DEFAULT_PERIOD_S

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Never scheduled by the engine (heartbeats are judged from pings); say so if called."""
    return Outcome(
        target.monitor_id,
        timezone.now(),
        ok=False,
        failure_class=FailureClass.INTERNAL_ERROR,
        message=_("A heartbeat monitor is judged from its pings and cannot be probed."),
    )
