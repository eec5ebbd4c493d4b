"""Config as code, bad input: every error names its YAML path (and line); ${ENV} references."""

from __future__ import annotations

import pytest

from core.configcode import Action, ConfigError, apply_config
from core.configcode.loader import substitute


def messages_of(text: str, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as info:
        apply_config(text, source="bad.yaml", **kwargs)
    return info.value.messages()


def one_monitor(monitor: str, allowlist: str = "[]") -> str:
    return f"""
agency: {{slug: a1, name: A1, network_allowlist: {allowlist}}}
clients:
  - slug: c
    name: C
    sites:
      - slug: s
        name: S
        monitors:
          - {monitor}
"""


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monitor", "path", "says"),
    [
        (
            "{name: Home, url: 'htp:/shop.example'}",
            "clients[0].sites[0].monitors[0].url",
            "must start with http:// or https://",
        ),
        (
            "{name: Home, url: 'https://shop.example/', keywrod: Cart}",
            "clients[0].sites[0].monitors[0].keywrod",
            "unknown field (did you mean keyword?)",
        ),
        (
            "{name: Home, url: 'https://shop.example/', interval: -5}",
            "clients[0].sites[0].monitors[0].interval",
            "must be at least 10 seconds",
        ),
        (
            "{name: Home, url: 'http://10.0.0.1/'}",
            "clients[0].sites[0].monitors[0].url",
            "Address 10.0.0.1 is not allowed by the network policy.",
        ),
        (
            "{name: Home, url: 'http://[::ffff:127.0.0.1]/'}",
            "clients[0].sites[0].monitors[0].url",
            "is not allowed by the network policy",
        ),
        (
            "{name: Home, url: 'http://2130706433/'}",
            "clients[0].sites[0].monitors[0].url",
            "2130706433 is an IPv4 address written in an unusual form; write it as 127.0.0.1.",
        ),
        (
            "{name: Home, kind: tcp, url: '127.1:5432'}",
            "clients[0].sites[0].monitors[0].url",
            "write it as 127.0.0.1",
        ),
        (
            "{name: Home, url: 'https://shop.example/', interval: '${TEST_NOT_SET}'}",
            "clients[0].sites[0].monitors[0].interval",
            "environment variable TEST_NOT_SET is not set",
        ),
    ],
)
def test_it_names_the_path_and_the_problem_of_a_bad_monitor(db, monitor, path, says):
    [message] = messages_of(one_monitor(monitor))
    assert message.startswith("bad.yaml:10:")
    assert f": {path}: " in message
    assert says in message


def test_it_uses_the_minimum_interval_from_settings(db, settings):
    settings.SITECARE_MIN_INTERVAL_SECONDS = 30
    [message] = messages_of(one_monitor("{name: H, url: 'https://x.example/', interval: 20}"))
    assert "interval: must be at least 30 seconds" in message


def test_it_admits_a_private_address_the_files_allowlist_admits(db):
    report = apply_config(one_monitor("{name: H, url: 'http://127.0.0.1:8001/'}", "[127.0.0.0/8]"))
    assert report.count(Action.CREATE) == 4


def test_it_reports_a_yaml_syntax_error_with_its_line(db):
    [message] = messages_of("agency:\n  slug: a\n  name: [unclosed\nclients: []\n")
    assert message.startswith("bad.yaml:4:")
    assert "YAML syntax error" in message


def test_it_reports_every_error_of_the_file_at_once_in_file_order(db):
    text = """
agency: {slug: 'bad slug', name: A, network_allowlist: [not-a-network], colour: red}
channels:
  - {name: Hook, url: 'nope://x'}
clients:
  - slug: c
    name: C
    sites:
      - slug: s
        name: S
        url: ftp://s.example
        time_zone: Mars/Olympus
        monitors:
          - {name: H, url: 'https://s.example/', timeout: 30, interval: 20}
  - slug: c
"""
    messages = messages_of(text)
    expected = [
        ("2:", "agency.slug: use only letters, digits, hyphens and underscores"),
        ("2:", "agency.network_allowlist[0]: not-a-network is not an IP network"),
        ("2:", "agency.colour: unknown field"),
        ("4:", "channels[0].url: not a valid Apprise URL"),
        ("11:", "clients[0].sites[0].url: The address must start with http://"),
        ("12:", "clients[0].sites[0].time_zone: Mars/Olympus is not a time zone"),
        ("14:", "clients[0].sites[0].monitors[0].timeout: must not exceed the interval (20 s)"),
        ("15:", "clients[1].name: this field is required"),
        ("15:", "clients[1].slug: duplicate slug c, also at clients[0].slug"),
    ]
    assert len(messages) == len(expected), messages
    for line, says in expected:
        [message] = [m for m in messages if says in m]
        assert message.startswith(f"bad.yaml:{line}"), message
    lines = [int(m.split(":")[1]) for m in messages]
    assert lines == sorted(lines)


def test_it_reports_duplicate_names_naming_both_paths(db):
    text = """
agency: {slug: a, name: A}
channels: [{name: Hook, url: 'json://hooks.example/'}]
clients:
  - slug: c
    name: C
    channels: [{name: Hook, url: 'json://hooks.example/c'}]
    sites:
      - {slug: s, name: S, monitors: [{name: H, url: 'https://a.example/'},
                                      {name: H, url: 'https://b.example/'}]}
      - {slug: s, name: S2}
"""
    messages = messages_of(text)
    assert any(
        "clients[0].sites[1].slug: duplicate slug s, also at clients[0].sites[0].slug" in m
        for m in messages
    )
    assert any(
        "monitors[1].name: duplicate name H, also at clients[0].sites[0].monitors[0].name" in m
        for m in messages
    )
    assert any(
        "clients[0].channels[0].name: duplicate name Hook, also at channels[0]" in m
        for m in messages
    )


def test_it_refuses_duplicate_yaml_keys_and_non_mappings(db):
    [message] = messages_of("agency: {slug: a, name: A}\nagency: {slug: b, name: B}\n")
    assert message == "bad.yaml:2:1: agency: duplicate key agency (first at line 1)"
    assert "must be a mapping" in messages_of("- just\n- a list\n")[0]
    assert "the file is empty" in messages_of("# nothing\n")[0]


# --- ${ENV} -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("json://h:${P:-8001}/_inbox", {"P": "9100"}, "json://h:9100/_inbox"),
        ("${U:-json://h:${P:-8001}/x}", {}, "json://h:8001/x"),
        ("${U:-json://h:${P:-8001}/x}", {"P": "9"}, "json://h:9/x"),
        ("${U:-json://h:${MISSING}/x}", {"U": "set"}, "set"),
        ('${A:-{"k": 1}}', {}, '{"k": 1}'),
        ("price $${not_a_var} $5", {}, "price ${not_a_var} $5"),
    ],
)
def test_it_substitutes_environment_variables(text, environ, expected):
    data, issues, failed = substitute({"v": text}, environ)
    assert (data, issues, failed) == ({"v": expected}, [], [])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("${MISSING}", "environment variable MISSING is not set"),
        ("${U:-a${MISSING}b}", "environment variable MISSING is not set"),
        ("${SITECARE_ENCRYPTION_KEY}", "is a sitecare server secret"),
        ("${A", "after ${A expected } or :-default}"),
        ("${A:-x", "is not closed"),
        ("${1}", "must be followed by a variable name"),
    ],
)
def test_it_reports_bad_references_at_their_path(text, says):
    _data, issues, failed = substitute({"list": [text]}, {"SITECARE_ENCRYPTION_KEY": "k"})
    [issue] = issues
    assert issue.path == "list[0]" and failed == [("list", 0)]
    assert says in issue.message


@pytest.mark.parametrize(
    "name",
    [
        "SITECARE_EMAIL_PASSWORD",
        "SITECARE_EMAIL_PASSWORD_FILE",
        "SITECARE_SECRET_KEY_FILE",
        "SITECARE_SOME_FUTURE_API_TOKEN",
    ],
)
def test_it_refuses_every_sitecare_secret_setting(name):
    _data, [issue], failed = substitute({"v": f"${{{name}}}"}, {name: "server-secret"})
    assert issue.message == (
        f"environment variable {name} is a sitecare server secret and cannot be used in a "
        "configuration file"
    )
    assert failed == [("v",)]


def test_it_still_reads_the_placeholders_export_writes():
    environ = {"SITECARE_MONITOR_ACME_SHOP_HOME_BEARER_TOKEN": "t", "SITECARE_CHANNEL_OPS": "c"}
    text = {"a": "${SITECARE_MONITOR_ACME_SHOP_HOME_BEARER_TOKEN}", "b": "${SITECARE_CHANNEL_OPS}"}
    assert substitute(text, environ) == ({"a": "t", "b": "c"}, [], [])


def test_it_refuses_a_check_kind_that_is_not_text(db):
    [message] = messages_of(one_monitor("{name: H, url: 'https://x.example/', kind: [http]}"))
    assert "monitors[0].kind: must be text" in message
    [message] = messages_of(one_monitor("{name: H, url: 'https://x.example/', kind: ping}"))
    assert "monitors[0].kind: must be one of: 'http'" in message
