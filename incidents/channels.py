"""Alert channels: URL validation that never echoes a secret, and the "send test" action."""

from __future__ import annotations

import logging

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import sender
from incidents.channel_url import judge, read_channel_url
from incidents.models import Channel, Notification
from incidents.sender import SendOutcome

logger = logging.getLogger("sitecare.alerts")
# Real Apprise URLs, many recipients included, stay far below; a megabyte of URL is not one.
URL_MAX_CHARS = 4096


def validate_channel_url(value: str) -> str:
    """Return the stripped Apprise URL, or raise ValueError (the message omits the URL).

    The one check of a channel URL (forms, admin, API, config as code): at most
    ``URL_MAX_CHARS``, understood by Apprise, and admitted by :func:`channel_url.judge` (the
    plugin Apprise selects is one sitecare sends to, reads no file on the server, and names
    no server as an IPv4 address in an unusual form), the check the sender makes too.
    """
    url = value.strip()
    if len(url) > URL_MAX_CHARS:
        raise ValueError(
            _("The address is too long: at most %(limit)d characters.") % {"limit": URL_MAX_CHARS}
        )
    if judge(read_channel_url(url)) is None:
        raise ValueError(
            _("not a valid Apprise URL (unknown scheme, or a required part is missing)")
        )
    return url


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
