"""Alert channels: URL validation that never echoes a secret, and the "send test" action."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import apprise
from apprise.manager_plugins import NotificationManager
from apprise.plugins import url_to_dict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import sender
from incidents.channel_schemes import scheme_of, scheme_refusal
from incidents.models import Channel, Notification
from incidents.sender import SendOutcome
from sitecare.lib.netpolicy import noncanonical_ipv4_refusal

logger = logging.getLogger("sitecare.alerts")
# Real Apprise URLs, many recipients included, stay far below; a megabyte of URL is not one.
URL_MAX_CHARS = 4096


@contextmanager
def apprise_quiet() -> Iterator[None]:
    """Silence Apprise's log while parsing: it logs rejected URLs with their tokens."""
    log = logging.getLogger("apprise")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def validate_channel_url(value: str) -> str:
    """Return the stripped Apprise URL, or raise ValueError (the message omits the URL).

    The one check of a channel URL (forms, admin, API, config as code): at most
    ``URL_MAX_CHARS``, understood by Apprise, a scheme sitecare sends to
    (:mod:`incidents.channel_schemes`) and no IPv4 address in an unusual form as its host.
    """
    url = value.strip()
    if len(url) > URL_MAX_CHARS:
        raise ValueError(
            _("The address is too long: at most %(limit)d characters.") % {"limit": URL_MAX_CHARS}
        )
    refusal = scheme_refusal(url)
    if refusal is not None:
        raise ValueError(refusal)
    with apprise_quiet():
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise ValueError(
            _("not a valid Apprise URL (unknown scheme, or a required part is missing)")
        )
    refusal = _host_refusal(url)
    if refusal is not None:
        raise ValueError(refusal)
    return url


def _host_refusal(url: str) -> str | None:
    """Refuse an IPv4 address in an unusual form where the URL's host is a server's address.

    Only for plugins whose URL has a ``host`` token: elsewhere (``tgram://``) that part of the
    URL is a token, not a host.
    """
    with apprise_quiet():
        parsed = url_to_dict(url, secure_logging=True) or {}
    host, plugins, scheme = parsed.get("host"), NotificationManager(), scheme_of(url)
    if scheme not in plugins or "host" not in (plugins[scheme].template_tokens or {}):
        return None
    return noncanonical_ipv4_refusal(host) if isinstance(host, str) else None


def send_test(channel: Channel, *, by: str) -> SendOutcome:
    """Send a test message to the channel now and say how it went; never raises.

    1. Build the message in the agency's language, with a one-off dedup key.
    2. Send it through the alert sender's own Apprise path (its timeouts, dedup header and
       secret scrubbing), with the agency's network policy applied to every address the
       plugin connects to.
    3. Log the attempt (not an outbox row: it is interactive); a success is recorded on the
       channel, and the alert sender then ends its failing episode, so its waiting
       notifications go out in its next round (it alone queues alerts, so never twice).
    """
    now = timezone.now()
    organization = channel.organization
    with translation.override(organization.language):
        message = Notification(
            channel=channel,
            event="",
            dedup_key=f"sitecare-test-channel-{channel.pk}-{now:%Y%m%dT%H%M%S}",
            title=_("[TEST] sitecare: %(channel)s") % {"channel": channel.name},
            body=_("A test message from sitecare to the channel “%(channel)s”, sent by %(user)s.")
            % {"channel": channel.name, "user": by},
        )
        # Under the agency's network policy, like every delivery (see sender.deliver).
        outcome = sender.deliver(message)
    if outcome.delivered:
        Channel.objects.filter(pk=channel.pk).update(consecutive_failures=0, last_success_at=now)
    logger.info(
        "test message to channel %s by %s: %s",
        channel.pk,
        by,
        "delivered" if outcome.delivered else f"failed: {outcome.error}",
    )
    return outcome
