"""A channel URL read once, the way Apprise reads it, and judged by the plugin Apprise selects.

Apprise picks the plugin that sends by the URL's scheme (``discord://``) or, for an
``https://`` address a service hands out (a Discord or Slack webhook, a Teams workflow), by the
plugin whose native-URL parser recognises it. So what sitecare admits is judged on the plugin
Apprise selects and the arguments it will get, whatever the URL's spelling:

1. :func:`read_channel_url` parses the URL once, with Apprise's log collected
   (:func:`apprise_log`) rather than written to the process log, where it would quote tokens.
2. :func:`judge` refuses a plugin not on the reviewed list (:mod:`incidents.channel_schemes`),
   a parameter that makes it read a file on the server, and a server (the URL's host, an
   ``smtp=`` server, a Nostr relay) written as an IPv4 address in an unusual form; it builds the
   plugin from the parsed arguments (no network) and refuses one that holds a local file
   anyway (a template, a key), whatever parameter put it there.

The web forms, the admin, the API and config as code (through
``incidents.channels.validate_channel_url``) and the alert sender (``sender.deliver``) all go
through :func:`judge`, with the same messages.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import apprise
from apprise.apprise_attachment import AppriseAttachment
from apprise.attachment.base import AttachBase
from apprise.manager_plugins import NotificationManager
from apprise.plugins import url_to_dict
from apprise.utils.parse import parse_list
from django.utils.translation import gettext as _

from incidents.channel_schemes import (
    ADMITTED_SCHEMES,
    FILE_PARAMETERS,
    SERVER_ATTRIBUTES,
    scheme_of,
)
from sitecare.lib.netpolicy import noncanonical_ipv4_refusal

# The lines Apprise logs in the current context, while one is being collected.
_collected: ContextVar[list[str] | None] = ContextVar("sitecare_apprise_log", default=None)
_install_lock = threading.Lock()


class _Collect(logging.Filter):
    """Takes Apprise's records out of the log while a context collects them."""

    def filter(self, record: logging.LogRecord) -> bool:
        lines = _collected.get()
        if lines is None:
            return True
        if record.levelno >= logging.WARNING:
            lines.append(record.getMessage())
        return False


_COLLECT = _Collect()


@contextmanager
def apprise_log() -> Iterator[list[str]]:
    """Collect Apprise's warnings and errors made in this context, and log none of its lines.

    Apprise's messages may quote a channel URL with its tokens: they reach a log or a person
    only through ``sender.scrub_secrets``. The collection follows the context (a filter on
    Apprise's logger, never a change of its level or handlers), so web threads validating at
    the same moment and Apprise's worker threads (which get a copy of the caller's context)
    each collect their own. Inside a collection, another one joins it (its lines are the
    outer one's).
    """
    outer = _collected.get()
    if outer is not None:
        yield outer
        return
    log = logging.getLogger(apprise.LOGGER_NAME)
    with _install_lock:
        if _COLLECT not in log.filters:
            log.addFilter(_COLLECT)
    lines: list[str] = []
    token = _collected.set(lines)
    try:
        yield lines
    finally:
        _collected.reset(token)


class ChannelRefused(ValueError):
    """sitecare will not send to this channel URL; the message says why, never the URL."""


@dataclass(frozen=True)
class ChannelUrl:
    """A channel URL as Apprise read it: the arguments of the plugin it selected, or None."""

    text: str
    parsed: Mapping[str, Any] | None

    @property
    def schema(self) -> str | None:
        """The scheme of the plugin Apprise selected (``discord`` for a Discord webhook)."""
        return str(self.parsed["schema"]) if self.parsed else None

    def arguments(self) -> dict[str, Any]:
        """A fresh copy of the plugin's arguments (Apprise changes the dict it is given)."""
        return copy.deepcopy(dict(self.parsed or {}))


def read_channel_url(url: str) -> ChannelUrl:
    """Parse a channel URL once, as Apprise does, without a line in the process log."""
    text = url.strip()
    with apprise_log():
        parsed: dict[str, Any] | None = url_to_dict(text, secure_logging=True)
    return ChannelUrl(text=text, parsed=parsed)


def instantiate(arguments: dict[str, Any]) -> apprise.NotifyBase | None:
    """The plugin for parsed arguments (None when Apprise cannot build it); no network."""
    return apprise.Apprise.instantiate(arguments, suppress_exceptions=True)


def judge(
    channel: ChannelUrl, arguments: dict[str, Any] | None = None
) -> apprise.NotifyBase | None:
    """The plugin Apprise builds for this URL once sitecare admits it (from ``arguments``
    when given: the URL's with a delivery's headers and timeouts), None when Apprise cannot
    build one; ChannelRefused when sitecare will not send to it.

    1. The plugin Apprise selected is on the reviewed list (an unparseable URL whose scheme
       names a refused plugin is refused too).
    2. No parameter that makes the plugin read a file on this machine.
    3. Built from the same arguments: it holds no local file, and no server it connects to is
       an IPv4 address in an unusual form.
    """
    schema = channel.schema or scheme_of(channel.text)
    if schema not in ADMITTED_SCHEMES and schema in NotificationManager().schemas():
        raise ChannelRefused(
            _(
                "sitecare does not send alerts to %(scheme)s:// addresses: it accepts only "
                "services reached over the network, under the agency's network policy."
            )
            % {"scheme": schema}
        )
    if channel.parsed is None:
        return None
    given = {str(key).lower() for key in channel.parsed.get("qsd", {})}
    refused = sorted(given & FILE_PARAMETERS.get(schema, frozenset()))
    if refused:
        raise ChannelRefused(_file_parameter_message(refused[0], schema))
    with apprise_log():
        plugin = instantiate(channel.arguments() if arguments is None else arguments)
    if plugin is not None:
        _judge_plugin(plugin, schema)
    return plugin


def _file_parameter_message(parameter: str, schema: str) -> str:
    return _(
        "The %(parameter)s parameter of %(scheme)s:// addresses reads a file on the server "
        "and is not allowed."
    ) % {"parameter": parameter, "scheme": schema}


def _judge_plugin(plugin: apprise.NotifyBase, schema: str) -> None:
    """Refuse a built plugin that holds a local file or names a server in an unusual form."""
    holder = _file_holder(plugin)
    if holder is not None:
        raise ChannelRefused(_file_parameter_message(holder, schema))
    for host in _servers(plugin):
        refusal = noncanonical_ipv4_refusal(host)
        if refusal is not None:
            raise ChannelRefused(refusal)


def _holds_file(value: object) -> bool:
    return isinstance(value, AttachBase) or (
        isinstance(value, AppriseAttachment) and len(value) > 0
    )


def _file_holder(plugin: apprise.NotifyBase) -> str | None:
    """The plugin's attribute holding an attachment (a file it reads), or None.

    One level down too, inside Apprise's own helpers (the e-mail plugin's PGP keys sit in its
    ``pgp`` controller).
    """
    for name, value in vars(plugin).items():
        inner = vars(value).values() if _is_apprise_helper(value) else ()
        if _holds_file(value) or any(_holds_file(item) for item in inner):
            return name.strip("_")
    return None


def _is_apprise_helper(value: object) -> bool:
    return type(value).__module__.startswith("apprise.") and hasattr(value, "__dict__")


def _servers(plugin: apprise.NotifyBase) -> list[str]:
    """The host names of the servers a plugin connects to, as far as its URL names them.

    ``host`` counts only where the plugin's URL has a host token: elsewhere (``tgram://``)
    that part of the URL is a token, not a server.
    """
    hosts: list[str] = []
    if "host" in (plugin.template_tokens or {}) and isinstance(plugin.host, str):
        hosts.append(plugin.host)
    for attribute in SERVER_ATTRIBUTES:
        for item in parse_list(getattr(plugin, attribute, None) or ()):
            try:
                hostname = urlsplit(item if "://" in item else f"//{item}").hostname
            except ValueError:  # not a URL at all: the plugin will refuse it itself
                continue
            if hostname:
                hosts.append(hostname)
    return hosts
