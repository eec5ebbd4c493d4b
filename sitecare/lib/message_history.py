"""Reading back the sentences sitecare stored before messages became data (migrations only).

Until December 2026 check messages and timeline entries were stored as finished sentences, in
English (the engine's language) or in the agency's language (alerts, timelines). The data
migrations ``monitoring 0013`` and ``incidents 00xx`` (``message_as_data``) turn each distinct
stored sentence back into a code and args where one of the templates below (frozen: the
producers' templates on the day of the change) reads it, in English or in the Polish of the
catalogue; a text no template reads stays as it is, shown literally.
"""

# The frozen templates are kept verbatim, long lines included.
# ruff: noqa: E501

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.db.models import Q
from django.utils import translation

# %(name)s, %(name)d, %(name).1f … and the literal %%.
_PLACEHOLDER = re.compile(r"%\((?P<name>\w+)\)(?P<spec>[-#0 +]*\d*(?:\.\d+)?[sdifr])|%%")

TEMPLATES: tuple[str, ...] = (
    "The content changed after the first %(chars)d characters kept for comparison.",
    "Ignore pattern %(number)d (%(pattern)s) took more than %(seconds)s s on this page; make it simpler.",
    "Baseline learned: from now on, changes of this content alert.",
    "The content is unchanged.",
    "The page was read; changes of its content do not alert.",
    "HTTP %(status)d: the page could not be read.",
    "The content changed: “%(old)s” became “%(new)s”.",
    "The content changed: “%(new)s” appeared.",
    "The content changed: “%(old)s” disappeared.",
    "The CSS selector “%(selector)s” matches nothing on the page.",
    "The text “%(text)s” is missing.",
    "%(selector)r is not a valid CSS selector",
    "at most %(n)d patterns",
    "pattern %(number)d (%(pattern)r) is not a valid regular expression: %(error)s",
    "at most %(n)d texts",
    "The resolver must be an IP address with an optional port, like 9.9.9.9 or [2620:fe::fe]:53; got %(value)s.",
    "DNS lookup of %(name)s failed: %(error)s",
    "no name server is configured",
    "%(type)s %(name)s: %(answers)s.",
    "Invalid options: %(error)s",
    "A domain name is needed, like example.com.",
    "%(name)s does not exist (NXDOMAIN).",
    "%(name)s has no %(type)s record.",
    "The resolver could not resolve %(name)s: %(error)s.",
    "%(type)s %(name)s is not as expected.",
    "%(value)s is not a domain name: give the bare name, like example.com.",
    "%(value)s is not a domain name with a top-level domain, like example.com.",
    "%(value)s is not an MX value like “10 mx.example.com”.",
    "Missing: %(values)s.",
    "Unexpected: %(values)s.",
    "%(value)s is not a valid domain name: %(error)s",
    "%(value)s has an invalid label %(label)s.",
    "%(value)s is not an IPv%(version)d address.",
    "No DNS answer within %(seconds)s s.",
    "%(server)s answered %(rcode)s",
    "%(name)s expires on %(date)s, in %(days)d day.",
    "%(name)s expires on %(date)s, in %(days)d days.",
    "The RDAP server did not answer with a JSON object.",
    "Renew soon: %(days)d day left (warning at %(warn)d).",
    "Renew soon: %(days)d days left (warning at %(warn)d).",
    "The registry has no record of %(name)s: the domain is not registered.",
    "The RDAP server answered HTTP %(status)d for %(name)s.",
    "The RDAP answer for %(name)s has no expiration date (no “expiration” event).",
    "%(name)s expired on %(date)s.",
    "must not exceed warn_days (%(warn)d), or the warning would never come first",
    "A heartbeat monitor is judged from its pings and cannot be probed.",
    "HTTP %(status)d in %(ms)d ms.",
    "an Authorization header is already set in headers",
    "a user name cannot contain a colon",
    "a keyword needs a body; HEAD responses have none",
    "a body can be sent only with POST, PUT or PATCH",
    "a JSON assertion needs a body; HEAD responses have none",
    "use either basic_auth or bearer_token, not both",
    "a bearer token cannot contain spaces or line breaks",
    "a custom CA (ca_pem) makes no sense without verification",
    "%(name)r is not a valid header name",
    "the header %(name)s cannot be set",
    "the value of %(name)s is too long or contains line breaks",
    "HTTP %(status)d, expected %(expected)s.",
    "HTTP %(status)d in %(ms)d ms, over %(max)d ms.",
    "The text “%(keyword)s” is missing.",
    "The text “%(keyword)s” appeared.",
    "The response is not valid JSON.",
    "at most %(n)d headers",
    "at most %(n)d assertions",
    "not a PEM bundle of CA certificates: %(error)s",
    "The sitemap %(url)s is not an XML sitemap: %(problem)s",
    "The canonical link points elsewhere: %(url)s",
    "The sitemap %(url)s is unreachable: %(error)s",
    "The sitemap %(url)s answers HTTP %(status)d.",
    "robots.txt could not be fetched: %(error)s",
    "robots.txt answers HTTP %(status)d.",
    "it has a document type declaration (an HTML page?)",
    "its root element is %(root)s, not urlset or sitemapindex",
    "No SEO accident found.",
    "a sitemap_url makes no sense with check_sitemap off",
    "The page carries a robots meta tag with noindex.",
    "The page is sent with an X-Robots-Tag: noindex header.",
    "robots.txt disallows the whole site.",
    "it is not well-formed XML (%(error)s)",
    "HTTP %(status)d: the page cannot be indexed.",
    "%(first)s (and %(more)d more)",
    "%(host)s is open (connected in %(ms)d ms).",
    "%(host)s is open but must be closed.",
    "%(host)s is closed, as expected.",
    "The certificate of %(host)s is valid for %(days)d more days (%(protocol)s).",
    "The certificate of %(host)s expired %(days)d days ago (%(date)s).",
    "The TLS handshake with %(host)s failed: %(reason)s.",
    "the server sent no certificate",
    "The certificate of %(host)s expires in %(days)d days (%(date)s).",
    "The certificate expires in %(days)d days (%(date)s).",
    "The certificate of %(host)s has expired.",
    "The certificate of %(host)s is not valid yet.",
    "not a PEM certificate (-----BEGIN CERTIFICATE-----)",
    "must not exceed warn_days (%(days)d)",
    "The certificate of %(host)s is self-signed, not issued by a trusted authority.",
    "The certificate chain of %(host)s is not trusted: %(reason)s.",
    "The certificate is not valid for %(name)s (it covers: %(names)s).",
    "The certificate of %(host)s was rejected: %(reason)s.",
    "Only content change monitors have a content baseline.",
    "The monitor has not been checked yet: nothing to accept.",
    "The latest check could not read the page content: nothing to accept.",
    "The latest check kept no content to accept.",
    "The job started at %(at)s and reported no result within %(limit)d s.",
    "Last ping at %(last)s; the next is expected by %(deadline)s.",
    "No ping yet; the first was expected by %(deadline)s.",
    "No ping since %(last)s; one was expected by %(deadline)s.",
    "The job reported a failure at %(at)s.",
    "The job reported a failure at %(at)s, exit code %(code)d.",
    "%(expression)s: the value is %(actual)s.",
    "one of %(ops)s",
    "%(expression)s: expected %(wanted)s at character %(position)d",
    "%(expression)s: the value is missing.",
    "an assertion is at most %(n)d characters",
    "%(expression)s must start with $",
    "an index or a quoted key",
    '%(value)s is not a value: use "text" in double quotes, a number, true, false or null',
    "a field name",
    "a quoted key",
    "nothing",
    "The check did not finish in time.",
    "The check could not be run.",
    "More than %(count)d redirects.",
    "Redirect to an unsupported address: %(location)s",
    "while resolving the name",
    "while connecting",
    "during the TLS handshake",
    "waiting for the response headers",
    "while reading the body",
    "The server closed the connection.",
    "The connection broke off in the middle of the body.",
    "No answer within %(seconds)s s (%(phase)s).",
    "No answer within %(seconds)s s.",
    "The name %(host)s does not resolve.",
    "The connection was reset.",
    "Cannot connect to %(host)s: %(error)s",
    "TLS failed: %(error)s",
    "Invalid response: %(error)s",
    "Invalid address: %(error)s",
    "The response body is larger than %(bytes)d bytes.",
    "%(host)s refused the connection.",
    "%(method)r is not a valid HTTP method",
    "%(value)s is not a host or host:port.",
    "%(value)s has an invalid port (1-65535).",
    "Write an IPv6 address in brackets, like [%(value)s]:443.",
    "%(value)s does not name a valid host.",
    "%(value)s needs a port, like host:443.",
    "%(value)s is not a valid [IPv6]:port.",
    "Address %(address)s is not allowed by the network policy.",
    "%(host)s is an IPv4 address written in an unusual form; write it as %(address)s.",
    "The address of %(host)s is not allowed by the network policy.",
    "The address must start with http:// or https://, got %(url)s",
    "The address %(url)s has no host name.",
    "The address %(url)s has an invalid port.",
    "The address %(url)s contains spaces.",
    "%(url)s is not a valid address: %(error)s",
    "someone",
    "At most %(limit)d characters (this has %(count)d).",
    "By %(person)s, through %(via)s.",
    "[CLOSED] %(site)s: %(monitor)s",
    "This field is required.",
    "Incident #%(number)d (%(monitor)s on %(site)s) was resolved by %(person)s.",
    "The monitor is still down; no new alert until it recovers.",
    "Reference: %(key)s",
    "Not a monitor of this client: %(ids)s.",
    "The link was sent to %(channel)s.",
    "By %(person)s, through %(via)s. The link was sent to %(channel)s.",
    "Not a severity: %(value)s.",
    "From %(old)s to %(new)s.",
    "Changed: %(fields)s.",
    "Held back: an earlier alert of this incident did not reach this channel. It goes out, in order, once the channel works again if the incident is still open.",
    "Not sent again: the incident was acknowledged or resolved meanwhile.",
    "Every step of “%(policy)s” was paged; nobody acknowledged.",
    "No step of “%(policy)s” reached anyone: the escalation ends here.",
    "Step %(step)d of %(steps)d",
    "[DOWN] %(site)s: %(monitor)s — please acknowledge",
    "%(where)s: paged %(names)s.",
    "%(where)s reached nobody; going on to the next step.",
    "%(monitor)s on %(site)s (%(client)s) is down.",
    "Down since: %(since)s",
    "Escalation “%(policy)s”, step %(step)d of %(steps)d.",
    "Incident: %(link)s",
    "[UP] %(site)s: %(monitor)s",
    "Nobody is on call in %(schedule)s.",
    "%(person)s has no personal alert channel.",
    "round %(round)d of %(rounds)d",
    "Reason: %(reason)s",
    "Details: %(message)s",
    "You are on call in %(schedule)s.",
    "Nobody has acknowledged yet: round %(round)d.",
    "Acknowledge: %(url)s",
    "Incident #%(number)d is resolved; nothing more to do.",
    "Down again after %(up)s up (flap %(count)d): no new alert before the flap window of %(window)s has passed.",
    "Down again after %(up)s up (flap %(count)d).",
    "Up for a whole flap window after %(count)d flap.",
    "Up for a whole flap window after %(count)d flaps.",
    "It went down again soon after recovering %(count)d time (flapping).",
    "It went down again soon after recovering %(count)d times (flapping).",
    "[DOWN] %(site)s: %(monitor)s",
    "Address: %(url)s",
    "%(monitor)s on %(site)s (%(client)s) is back up.",
    "Outage lasted %(duration)s, since %(since)s.",
    "Acknowledge: %(link)s",
    "The channel address is not a valid Apprise URL, or its service is not available.",
    "The service did not accept the message.",
    "Not delivered to %(channel)s after %(attempts)d attempts: %(error)s",
    "Held back from %(channel)s: an earlier alert did not reach it.",
    "The channel is disabled.",
    "Sent to %(channel)s.",
    "The channel address cannot be decrypted: the encryption key has changed.",
    "Sending failed unexpectedly (%(error)s).",
    "Give one rule line only, like FREQ=WEEKLY;BYDAY=SU.",
    "FREQ is missing (e.g. FREQ=WEEKLY).",
    "BYMINUTE takes one value: a window starts at most once an hour.",
    "Give COUNT or UNTIL, not both.",
    "UNTIL is read on the site's local clock: write it without the final Z (e.g. UNTIL=20261231T235959).",
    "UNTIL is before the start.",
    "The rule never produces a date (like February 30).",
    "FREQ must be one of %(allowed)s: a window repeats at most hourly.",
    "INTERVAL must be a number from 1 to %(max)d.",
    "COUNT must be a number from 1 to %(max)d.",
    "“%(part)s” is not NAME=value.",
    "%(name)s is not supported here.",
    "%(name)s is given twice.",
    "Not a valid RRULE: %(error)s",
)


def _pattern(template: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A regex that reads ``template`` back, and the conversion of each placeholder."""
    parts: list[str] = []
    kinds: dict[str, str] = {}
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : found.start()]))
        position = found.end()
        if found.group(0) == "%%":
            parts.append("%")
            continue
        name, kind = found.group("name"), found.group("spec")[-1]
        if name in kinds:
            parts.append(f"(?P={name})")
            continue
        kinds[name] = kind
        value = r"-?\d+" if kind in "di" else r"-?[\d.,]+" if kind == "f" else r".*?"
        parts.append(f"(?P<{name}>{value})")
    parts.append(re.escape(template[position:]))
    try:
        return re.compile("".join(parts) + r"\Z", re.DOTALL), kinds
    except re.error:
        return None


@cache
def _readers() -> list[tuple[str, re.Pattern[str], dict[str, str]]]:
    """(code, regex, kinds) for every template, in English and Polish, most specific first."""
    found = []
    for code in TEMPLATES:
        with translation.override("pl"):
            polish = translation.gettext(code)
        for shown in dict.fromkeys((code, polish)):
            reader = _pattern(shown)
            if reader is not None:
                found.append((code, *reader))
    # More literal text first: "%(host)s is open" must not read what a longer template says.
    found.sort(key=lambda r: -len(_PLACEHOLDER.sub("", r[1].pattern)))
    return found


def read_back(text: str) -> tuple[str, dict[str, Any]] | None:
    """The code and args of a stored sentence, or None when no template reads it."""
    for code, pattern, kinds in _readers():
        matched = pattern.match(text)
        if matched is None:
            continue
        args: dict[str, Any] = {}
        for name, raw in matched.groupdict().items():
            kind = kinds[name]
            try:
                args[name] = (
                    int(raw)
                    if kind in "di"
                    else float(raw.replace(",", "."))
                    if kind == "f"
                    else raw
                )
            except ValueError:
                break
        else:
            return code, args
    return None


def convert(model: Any, fields: Iterable[str], *, skip: Q | None = None) -> None:
    """Give every stored sentence of ``model`` (in each ``fields`` column) its code and args,
    once per distinct sentence; rows matching ``skip`` (notes people typed) stay as they are."""
    for name in fields:
        rows = model.objects.filter(**{f"{name}_code": ""}).exclude(**{name: ""})
        if skip:
            rows = rows.exclude(skip)
        for text in rows.values_list(name, flat=True).distinct().iterator():
            found = read_back(text)
            if found is not None:
                rows.filter(**{name: text}).update(
                    **{f"{name}_code": found[0], f"{name}_args": found[1]}
                )
