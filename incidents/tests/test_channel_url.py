"""A channel URL is judged by the plugin Apprise selects for it, however it is spelled (a
service's own https:// webhook address included), read once, and without a line of Apprise's
in the process log."""

from __future__ import annotations

import contextlib
import json
import logging
import threading

import pytest

from incidents import channel_schemes, channel_url
from incidents.channel_url import apprise_log, judge, read_channel_url
from incidents.channels import send_test, validate_channel_url
from incidents.tests.receivers import WebhookReceiver, point_channel

TEMPLATE_REFUSED = "The template parameter of {scheme}:// addresses reads a file on the server"


@pytest.mark.parametrize(
    ("native", "plain", "scheme"),
    [
        (
            "https://discord.com/api/webhooks/123/abcdef?template=/etc/hostname",
            "discord://123/abcdef?template=/etc/hostname",
            "discord",
        ),
        (
            "https://hooks.slack.com/services/T1/B1/C1xxxxxxxxxxxxxxxxxxxx?template=/etc/hostname",
            "slack://T1/B1/C1xxxxxxxxxxxxxxxxxxxx?template=/etc/hostname",
            "slack",
        ),
        (
            "https://evil.example:443/workflows/wf1/triggers/manual/paths/invoke"
            "?sig=abc&template=/etc/hostname",
            "workflow://evil.example:443/wf1/?sig=abc&template=/etc/hostname",
            "workflow",
        ),
    ],
)
def test_it_refuses_a_file_parameter_in_a_services_own_url_as_in_its_scheme_form(
    native, plain, scheme
):
    with pytest.raises(ValueError) as plain_refusal:
        validate_channel_url(plain)
    with pytest.raises(ValueError) as native_refusal:
        validate_channel_url(native)
    assert str(native_refusal.value) == str(plain_refusal.value)
    assert str(native_refusal.value).startswith(TEMPLATE_REFUSED.format(scheme=scheme))
    without = native.replace("&template=/etc/hostname", "").replace("?template=/etc/hostname", "")
    assert validate_channel_url(without) == without


def test_it_never_sends_a_server_file_from_a_stored_native_url(world, tmp_path, settings):
    settings.SITECARE_ALERT_SEND_TIMEOUT = 2.0
    secret = tmp_path / "server-side.json"  # any JSON file sitecare's user can read
    secret.write_text(json.dumps({"type": "message", "attachments": [{"contentType": "SECRET"}]}))
    webhook = WebhookReceiver().start()
    try:
        # Stored as it is, as one saved before the rule; the tenant's own host, here on loopback.
        url = (
            f"http://127.0.0.1:{webhook.port}/workflows/wf1/triggers/manual/paths/invoke"
            f"?sig=abc&template={secret}"
        )
        channel = point_channel(world, url, allowlist="127.0.0.0/8")
        outcome = send_test(channel, by="engineer")
        assert not outcome.delivered
        assert outcome.error.startswith(TEMPLATE_REFUSED.format(scheme="workflow"))
        assert webhook.requests == []
    finally:
        webhook.stop()


def test_it_refuses_a_services_own_url_whose_plugin_is_not_on_the_list(monkeypatch):
    url = "https://discord.com/api/webhooks/123/abcdef"
    assert validate_channel_url(url) == url
    monkeypatch.setattr(
        channel_url, "ADMITTED_SCHEMES", channel_schemes.ADMITTED_SCHEMES - {"discord"}
    )
    with pytest.raises(ValueError, match="does not send alerts to discord:// addresses"):
        validate_channel_url(url)


def test_it_refuses_a_plugin_holding_a_local_file_whatever_parameter_put_it_there(monkeypatch):
    # Should a parameter be missing from the reviewed list, the built plugin still tells.
    monkeypatch.setattr(channel_url, "FILE_PARAMETERS", {})
    with pytest.raises(ValueError, match=TEMPLATE_REFUSED.format(scheme="discord")):
        validate_channel_url("https://discord.com/api/webhooks/123/abcdef?template=/etc/hostname")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "mailtos://u:p@example.com?smtp=2130706433&to=a@example.com",
            "mailtos://u:p@example.com?smtp=127.0.0.1&to=a@example.com",
        ),
        (
            "mailto://u:p@example.com?smtp=0x7f.1:2525&to=a@example.com",
            "mailto://u:p@example.com?smtp=127.0.0.1:2525&to=a@example.com",
        ),
    ],
)
def test_it_refuses_a_server_parameter_in_an_unusual_ipv4_form(url, canonical):
    with pytest.raises(ValueError, match=r"written in an unusual form; write it as 127\.0\.0\.1"):
        validate_channel_url(url)
    assert validate_channel_url(canonical) == canonical


def test_it_reads_a_url_once_and_logs_no_apprise_line(monkeypatch, caplog):
    calls: list[str] = []
    parse = channel_url.url_to_dict

    def counted(url: str, secure_logging: bool = True) -> object:
        calls.append(url)
        return parse(url, secure_logging=secure_logging)

    monkeypatch.setattr(channel_url, "url_to_dict", counted)
    caplog.set_level(logging.DEBUG)
    for url in ("json://127.0.0.1:8000/", "json://", "syslog://", "discord://1/a?template=/x"):
        calls.clear()
        with contextlib.suppress(ValueError):
            validate_channel_url(url)
        assert calls == [url]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("apprise")] == []


def test_it_collects_apprise_lines_per_context(caplog):
    """Web threads validate at the same moment: each collects its own lines, and code that
    collects nothing logs as usual."""
    caplog.set_level(logging.WARNING)
    log = logging.getLogger("apprise")
    level, handlers = log.level, list(log.handlers)
    outside: list[str] = []

    def other_thread() -> None:
        log.warning("from another thread")
        outside.append("done")

    with apprise_log() as lines:
        log.warning("collected here")
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert lines == ["collected here"]
    assert outside == ["done"]
    assert [r.getMessage() for r in caplog.records] == ["from another thread"]
    # Nothing about the logger changed: no level, handler or propagation to restore.
    assert (log.propagate, log.level, log.handlers) == (True, level, handlers)


def test_it_judges_the_plugin_apprise_selects():
    target = read_channel_url(" https://discord.com/api/webhooks/123/abcdef ")
    assert (target.text, target.schema) == (
        "https://discord.com/api/webhooks/123/abcdef",
        "discord",
    )
    assert judge(target) is not None
    assert judge(read_channel_url("nothing://at/all")) is None
