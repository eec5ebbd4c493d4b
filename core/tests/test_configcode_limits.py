"""Config as code, hostile input: an alias bomb, deep nesting and a huge file each give one clear
error naming the limit and the line, in about the time a normal file takes (never minutes, never
a RecursionError traceback), and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from core.configcode import ConfigError, apply_config
from core.configcode.loader import MAX_DOCUMENT_CHARS, parse_yaml
from tenancy.models import Organization


def alias_bomb(levels: int, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the one before (about 1 KB)."""
    lines = ['a0: &a0 ["boom"]']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def messages_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        apply_config(text, source="bad.yaml")
    return info.value.messages()


def test_it_refuses_an_alias_bomb_without_walking_its_expansion():
    parsed = parse_yaml(alias_bomb(6))  # 531,441 values once expanded
    [issue] = parsed.issues
    assert issue.message == "YAML aliases expand the document to more than 200000 values"
    assert issue.line == 7  # the list of a6, whose items pass the limit
    # Each node is indexed once, however many aliases reach it (the old loader recorded
    # every expanded path: 1.3 million for this file, 387 million for nine levels).
    assert len(parsed.marks) < 100
    assert parse_yaml(alias_bomb(5)).issues == []  # 59,050 values: anchors stay usable


def test_it_refuses_the_nine_by_nine_bomb_from_the_command_line_in_seconds(db, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9))
    assert len(path.read_bytes()) < 1024
    result = subprocess.run(
        [sys.executable, "-m", "sitecare.cli", "apply", "--dry-run", str(path)],
        capture_output=True,
        text=True,
        timeout=30,  # today it returns in about a second; before the fix it ran for minutes
    )
    assert result.returncode == 1
    assert f"{path}:7:5: YAML aliases expand the document to more than 200000 values" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a: ", "}")])
def test_it_refuses_deep_nesting_with_a_clear_error(db, opening, closing):
    text = "agency: " + opening * 20_000 + closing * 20_000 + "\n"
    [message] = messages_of(text)
    assert message.startswith("bad.yaml:1:")
    assert message.endswith("the document nests deeper than 64 levels")
    assert not Organization.objects.exists()


def test_it_refuses_a_document_past_the_size_limit_naming_the_line(db):
    line = "# " + "x" * 97 + "\n"  # 100 characters a line
    text = "agency: {slug: a, name: A}\n" + line * (MAX_DOCUMENT_CHARS // 100 + 1)
    [message] = messages_of(text)
    assert message == "bad.yaml:40001:1: the document is longer than 4000000 characters"
    assert not Organization.objects.exists()


def test_it_refuses_a_huge_integer_naming_its_line_in_a_moment(db):
    started = time.monotonic()
    [message] = messages_of("agency: {slug: a, name: A}\nclients: " + "7" * 5000 + "\n")
    assert message == "bad.yaml:2:10: a number may be at most 100 characters long"
    assert time.monotonic() - started < 1.0
    assert not Organization.objects.exists()


def test_it_reads_base_60_numbers_as_text_without_computing_them(db):
    # YAML 1.1 reads 1:0:0 as 3600; PyYAML's big-integer steps made 200k parts take seconds
    # (and a file at the size limit minutes).
    assert parse_yaml("at: 4:30\nratio: 1:30.5\n").data == {"at": "4:30", "ratio": "1:30.5"}
    started = time.monotonic()
    [message] = messages_of("agency: {slug: a, name: A}\nclients: 1" + ":0" * 200_000 + "\n")
    assert message.startswith("bad.yaml:2:")
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("value", "kind"), [("0b_", "int"), ("0x_", "int")])
def test_it_reports_a_value_python_cannot_convert_at_its_line(value, kind):
    [issue] = parse_yaml(f"agency:\n  port: {value}\n").issues
    assert (issue.line, issue.message) == (2, f"this value cannot be read as {kind}")


def test_it_reads_standard_input_only_up_to_the_size_limit(db, monkeypatch):
    """``sitecare apply -`` on a pipe that keeps going stops reading past the limit, as for a
    file. The writer sends twice the limit, then holds the pipe open for 10 s: a reader that
    reads to the end waits for that."""
    read_end, write_end = os.pipe()
    reader_done = threading.Event()

    def writer() -> None:
        chunk = b"# " + b"x" * 4093 + b"\n"
        try:
            for _ in range(2 * MAX_DOCUMENT_CHARS // len(chunk)):
                os.write(write_end, chunk)
            reader_done.wait(10)
        except OSError:  # the reader closed its end
            pass
        finally:
            os.close(write_end)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    started = time.monotonic()
    with os.fdopen(read_end, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        with pytest.raises(CommandError, match="1 error in <stdin>"):
            call_command("apply", "-", "--dry-run")
    reader_done.set()
    assert time.monotonic() - started < 5.0
    thread.join(timeout=5)
