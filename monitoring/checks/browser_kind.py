"""What browser kinds share: their target, their blocked hosts, and the engine's refusal to
run them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import Field

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import validate_check_url

# A host name, or "*." before one: the name itself and every name under it (the guard proxy's
# reading, monitoring.browser.proxy.host_blocked).
HOST_PATTERN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?")
MAX_BLOCKED_HOSTS = 50


def block_hosts_field() -> Any:
    """The ``block_hosts`` option of a browser kind (its validator: :func:`host_patterns`)."""
    return Field(
        default_factory=list,
        description=gettext_noop(
            "hosts whose requests are refused (analytics, ads): ads.example.net or *.example.com"
        ),
    )


def host_patterns(values: list[str]) -> list[str]:
    """Blocked hosts as the proxy compares them (lower case, no final dot, each once); a
    ValueError names the first that is neither a host name nor a ``*.example.com`` pattern."""
    if len(values) > MAX_BLOCKED_HOSTS:
        raise ValueError(_("at most %(n)d hosts") % {"n": MAX_BLOCKED_HOSTS})
    hosts = [value.strip().lower().rstrip(".") for value in values]
    for host in hosts:
        if len(host) > 253 or not HOST_PATTERN.fullmatch(host):
            raise ValueError(
                _("%(host)s is not a host name or a pattern like *.example.com")
                % {"host": host[:100]}
            )
    return list(dict.fromkeys(hosts))


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
