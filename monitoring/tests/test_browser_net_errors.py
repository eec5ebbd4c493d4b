"""One reading of Chromium's network errors for both browser kinds."""

from __future__ import annotations

import pytest

from monitoring.browser.net_errors import net_error_class, net_error_code
from monitoring.failures import FailureClass


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("Page.goto: net::ERR_NAME_NOT_RESOLVED at http://shop.invalid/", FailureClass.DNS_ERROR),
        ("net::ERR_CONNECTION_REFUSED", FailureClass.CONNECTION_REFUSED),
        ("net::ERR_CONNECTION_CLOSED", FailureClass.CONNECTION_RESET),
        ("net::ERR_EMPTY_RESPONSE", FailureClass.INVALID_RESPONSE),
        ("net::ERR_CERT_DATE_INVALID", FailureClass.TLS_ERROR),
        ("net::ERR_TIMED_OUT", FailureClass.NAVIGATION_TIMEOUT),
        ("net::ERR_TOO_MANY_REDIRECTS", FailureClass.TOO_MANY_REDIRECTS),
        ("net::ERR_BLOCKED_BY_CLIENT", FailureClass.REQUEST_BLOCKED),
        ("net::ERR_TUNNEL_CONNECTION_FAILED", FailureClass.BLOCKED_BY_POLICY),
    ],
)
def test_it_reads_chromiums_code_as_a_failure_class(error, expected):
    assert net_error_class(error, FailureClass.BROWSER_ERROR) == expected


def test_it_leaves_an_unknown_code_or_no_code_to_the_kinds_default():
    assert net_error_class("net::ERR_FAILED", FailureClass.INVALID_RESPONSE) == (
        FailureClass.INVALID_RESPONSE
    )
    assert net_error_class("Target closed", FailureClass.BROWSER_ERROR) == (
        FailureClass.BROWSER_ERROR
    )
    assert net_error_code("Page.goto: net::ERR_ABORTED; maybe frame detached") == "ERR_ABORTED"
