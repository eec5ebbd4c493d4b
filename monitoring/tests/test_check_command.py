"""``sitecare check URL``: one check now, through the engine's own code, with exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitoring.tests.loopback import ToggleServer

pytestmark = pytest.mark.usefixtures("netlog")


def check(*args: str) -> tuple[str, int]:
    """Run the command; return its output and exit code (0 when it returned normally)."""
    out = io.StringIO()
    try:
        call_command("check", *args, stdout=out)
    except SystemExit as exc:
        return out.getvalue(), int(exc.code or 0)
    return out.getvalue(), 0


def test_it_prints_an_up_result_with_the_timing_breakdown():
    with ToggleServer() as server:
        output, code = check(server.url("/"), "--allow-private")
    assert code == 0
    assert "UP" in output and "200" in output
    for phase in ("DNS lookup", "TCP connect", "TLS handshake", "Time to first byte", "Total"):
        assert phase in output
    assert server.hits["/"] == 1


def test_it_prints_json_that_parses():
    with ToggleServer() as server:
        output, code = check(server.url("/"), "--allow-private", "--json")
    result = json.loads(output)
    assert code == 0
    assert result["state"] == "up" and result["ok"] is True
    assert result["status_code"] == 200
    assert result["failure_class"] is None
    assert set(result["timing"]) == {"dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"}
    assert result["timing"]["connect_ms"] is not None
    assert result["timing"]["total_ms"] >= result["timing"]["ttfb_ms"]


def test_it_exits_1_on_a_down_result_naming_the_failure_class_and_its_label():
    with ToggleServer() as server:
        server.broken = True
        output, code = check(server.url("/"), "--allow-private")
    assert code == 1
    assert "DOWN" in output
    assert "http_status (Unexpected HTTP status)" in output


def test_it_applies_its_options():
    with ToggleServer() as server:
        output, code = check(
            server.url("/"), "--allow-private", "--json", "--keyword", "Add to cart"
        )
    assert code == 1
    assert json.loads(output)["failure_class"] == "keyword_missing"


def test_it_keeps_the_network_policy_without_allow_private():
    with ToggleServer() as server:
        output, code = check(server.url("/"), "--json")
        hits = sum(server.hits.values())
    assert code == 1
    assert json.loads(output)["failure_class"] == "blocked_by_policy"
    assert hits == 0


@pytest.mark.parametrize(
    "args",
    [
        ("ftp://example.invalid/",),
        ("http://example.invalid/", "--expect-status", "abc"),
        ("http://example.invalid/", "--timeout", "0"),
        ("http://example.invalid/", "--method", "HEAD", "--keyword", "x"),
        ("http://example.invalid/", "--json-assert", "status == 1"),
        ("http://example.invalid/", "--header", "no colon"),
        ("http://example.invalid/", "--header", "Host: elsewhere"),
        ("http://a.invalid/", "http://b.invalid/"),
    ],
)
def test_it_refuses_bad_input_with_exit_code_2(netlog, args):
    with pytest.raises(CommandError) as caught:
        call_command("check", *args, stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert netlog.events == [] and netlog.lookups == []


def test_it_exits_2_on_bad_input_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "sitecare.cli", "check", "ftp://example.invalid/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "http://" in result.stderr


def test_it_still_runs_djangos_system_checks_without_a_url():
    output, code = check()
    assert code == 0
    assert "System check identified no issues" in output
