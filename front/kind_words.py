"""How the fields of monitor definitions read on the forms: labels for known keys (a key of a
new kind that has none reads as its own name, "max_runtime" → "Max runtime")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from monitoring.models import CheckKind

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABELS: dict[str, StrOrPromise] = {
    "name": _("Name"),
    "url": _("Address"),
    "interval": _("Interval (seconds)"),
    "timeout": _("Timeout (seconds)"),
    "confirm_down": _("Failed checks before down"),
    "confirm_up": _("Passed checks before up"),
    "recheck": _("Re-check pace (seconds)"),
    "enabled": _("Start checking at once"),
    "critical": _("Counts for the SLA"),
    "method": _("HTTP method"),
    "expected_status": _("Expected status"),
    "keyword": _("Keyword"),
    "keyword_mode": _("The keyword must be"),
    "follow_redirects": _("Follow redirects"),
    "headers": _("Request headers"),
    "body": _("Request body"),
    "json_assert": _("JSON assertions"),
    "max_response_ms": _("Slowest acceptable response (ms)"),
    "basic_auth": _("Basic authentication"),
    "username": _("user name"),
    "password": _("password"),
    "bearer_token": _("Bearer token"),
    "ca_pem": _("Own CA certificates (PEM)"),
    "verify_tls": _("Verify the TLS certificate"),
    "expect": _("The port must be"),
    "record_type": _("Record type"),
    "expected": _("Expected values"),
    "match": _("Match"),
    "resolver": _("Name server"),
    "warn_days": _("Warn days ahead"),
    "critical_days": _("Down days ahead"),
    "rdap_base_url": _("RDAP service"),
    "check_chain": _("Check the certificate chain"),
    "check_hostname": _("Check the host name"),
    "min_version": _("Lowest TLS version"),
    "server_name": _("Server name (SNI)"),
    "must_be_indexed": _("Must be indexable"),
    "check_robots": _("Check robots.txt"),
    "check_sitemap": _("Check the sitemap"),
    "sitemap_url": _("Sitemap address"),
    "canonical": _("Canonical link"),
    "selector": _("CSS selector"),
    "compare": _("Compare"),
    "ignore": _("Ignore (regular expressions)"),
    "must_contain": _("Texts that must be there"),
    "alert_on_change": _("Alert on change"),
    "period": _("Period (seconds)"),
    "cron": _("Cron schedule"),
    "time_zone": _("Time zone"),
    "grace": _("Grace (seconds)"),
    "max_runtime": _("Longest run (seconds)"),
    "profile": _("Device profile"),
    "runs": _("Page loads per check"),
    "budgets": _("Budget"),
    "lcp_ms": _("LCP (ms)"),
    "cls": _("CLS"),
    "tbt_ms": _("TBT (ms)"),
    "fcp_ms": _("FCP (ms)"),
    "ttfb_ms": _("TTFB (ms)"),
    "bytes": _("page weight (bytes)"),
    "requests": _("requests"),
    "block_hosts": _("Blocked hosts"),
    "device": _("Device"),
    "step_timeout": _("Step timeout (seconds)"),
}

# How the values of a choice read (the value itself is what the API and YAML take); a
# value missing here reads as itself ("GET", "TLS1.2", "AAAA").
CHOICE_LABELS: dict[str, dict[str, StrOrPromise]] = {
    "keyword_mode": {"present": _("present"), "absent": _("absent")},
    "expect": {"open": pgettext_lazy("port", "open"), "closed": pgettext_lazy("port", "closed")},
    "canonical": {"self": _("pointing at the page itself"), "ignore": _("not checked")},
    "match": {"all": _("exactly the expected values"), "any": _("at least one of them")},
    "compare": {"text": _("its text"), "html": _("its HTML")},
    "profile": {"mobile": _("mobile"), "desktop": _("desktop")},
    "device": {"mobile": _("mobile"), "desktop": _("desktop")},
}

TARGET_LABELS: dict[str, StrOrPromise] = {
    CheckKind.HTTP: _("Address (URL)"),
    CheckKind.CONTENT: _("Address (URL)"),
    CheckKind.SEO: _("Address (URL)"),
    CheckKind.TCP: _("Host and port"),
    CheckKind.TLS: _("Host (and port)"),
    CheckKind.DNS: _("Domain name"),
    CheckKind.DOMAIN: _("Domain name"),
    CheckKind.SPEED: _("Address (URL)"),
    CheckKind.TRANSACTION: _("Start address (URL)"),
}

TARGET_HELP: dict[str, StrOrPromise] = {
    CheckKind.HTTP: _("e.g. https://example.com/shop"),
    CheckKind.CONTENT: _("e.g. https://example.com/terms"),
    CheckKind.SEO: _("e.g. https://example.com/"),
    CheckKind.TCP: _("e.g. mail.example.com:587"),
    CheckKind.TLS: _("e.g. example.com or example.com:8443"),
    CheckKind.DNS: _("e.g. example.com"),
    CheckKind.DOMAIN: _("e.g. example.com"),
    CheckKind.SPEED: _("e.g. https://example.com/product/1"),
    CheckKind.TRANSACTION: _("e.g. https://example.com/: steps' relative addresses start here"),
}

KIND_HELP: dict[str, StrOrPromise] = {
    CheckKind.HTTP: _("A page or API answers with the right status, text or JSON."),
    CheckKind.TCP: _("A port is open (or closed)."),
    CheckKind.TLS: _("The certificate is valid and far from expiry."),
    CheckKind.DNS: _("DNS answers with the expected records."),
    CheckKind.DOMAIN: _("The domain registration is far from expiry."),
    CheckKind.SEO: _("Search engines may index the page."),
    CheckKind.CONTENT: _("A page's content did not change unexpectedly."),
    CheckKind.HEARTBEAT: _("A cron job or backup pings sitecare on time."),
    CheckKind.SPEED: _("A page loads fast enough in a real browser (Web Vitals, budgets)."),
    CheckKind.TRANSACTION: _(
        "A real browser goes through the steps you list (product, cart, pay…): "
        "can a customer still pay?"
    ),
}


def field_label(key: str) -> StrOrPromise:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def choice_label(key: str, value: str) -> StrOrPromise:
    return CHOICE_LABELS.get(key, {}).get(value, value)


def target_label(kind: str) -> StrOrPromise:
    return TARGET_LABELS.get(kind) or LABELS["url"]


def target_help(kind: str) -> StrOrPromise:
    return TARGET_HELP.get(kind, "")


def kind_help(kind: str) -> StrOrPromise:
    return KIND_HELP.get(kind, "")
