"""Why a check failed: one enum, each member with a translatable human message."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FailureClass(models.TextChoices):
    NONE = "", _("No failure")
    DNS_ERROR = "dns_error", _("The domain name does not resolve")
    CONNECTION_REFUSED = "connection_refused", _("The server refused the connection")
    CONNECTION_RESET = "connection_reset", _("The connection was reset")
    TIMEOUT = "timeout", _("The server did not answer in time")
    TLS_ERROR = "tls_error", _("The secure connection (TLS) failed")
    HTTP_STATUS = "http_status", _("Unexpected HTTP status")
    KEYWORD_MISSING = "keyword_missing", _("The expected text is missing")
    KEYWORD_FOUND = "keyword_found", _("A forbidden text appeared")
    CONTENT_CHANGED = "content_changed", _("The page content changed")
    ASSERTION_FAILED = "assertion_failed", _("A checked value is not as expected")
    TOO_SLOW = "too_slow", _("The response was too slow")
    BODY_TOO_LARGE = "body_too_large", _("The response body is too large")
    TOO_MANY_REDIRECTS = "too_many_redirects", _("Too many redirects")
    BLOCKED_BY_POLICY = "blocked_by_policy", _("The address is not allowed by the network policy")
    HEARTBEAT_LATE = "heartbeat_late", _("The job did not report in time")
    HEARTBEAT_FAILED = "heartbeat_failed", _("The job reported a failure")
    INVALID_RESPONSE = "invalid_response", _("The server sent an invalid response")
    INTERNAL_ERROR = "internal_error", _("The check could not be run")
    # Browser checks (transactions and page speed).
    ELEMENT_NOT_FOUND = "element_not_found", _("An element the step needs was not found")
    NAVIGATION_TIMEOUT = "navigation_timeout", _("The page did not load in time")
    STEP_TIMEOUT = "step_timeout", _("A step did not finish in time")
    SCRIPT_ERROR = "script_error", _("The page raised a JavaScript error")
    REQUEST_BLOCKED = "request_blocked", _("The page requested a blocked address")
    BUDGET_EXCEEDED = "budget_exceeded", _("A page speed budget was exceeded")
    BROWSER_ERROR = "browser_error", _("The browser failed or was stopped")
