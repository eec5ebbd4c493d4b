"""What browser kinds share: their target, and the engine's refusal to run them."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils import timezone

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import validate_check_url


def normalize_target(value: str) -> str:
    """A browser check starts at an http(s) URL."""
    return validate_check_url(value)


def target_host(target: str) -> str | None:
    return urlsplit(target).hostname


async def not_in_engine(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Browser kinds run as jobs on the job runner, never in the probe engine's loop."""
    return Outcome(
        target.monitor_id,
        timezone.now(),
        ok=False,
        failure_class=FailureClass.INTERNAL_ERROR,
        message=_("This check runs in the browser runner, not in the probe engine."),
    )
