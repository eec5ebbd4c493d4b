"""Polish and English ship complete: every marked string has a Polish translation."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "pl" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "pl" / "LC_MESSAGES" / "django.mo"
SOURCE_DIRS = [
    "sitecare",
    "tenancy",
    "sites",
    "monitoring",
    "incidents",
    "sla",
    "jobs",
    "api",
    "front",
    "core",
]


def _unquote(lines: list[str]) -> str:
    # A .po string is a C-style quoted string; Python's literal syntax reads it the same way.
    return "".join(ast.literal_eval(line) for line in lines)


def parse_po(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr list, flags (enough for
    checks)."""
    entries: list[dict[str, object]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith("#~")]
        flags = " ".join(ln for ln in lines if ln.startswith("#,"))
        fields: dict[str, list[str]] = {}
        current = ""
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = [match.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" not in fields:
            continue
        msgstrs = [_unquote(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries.append(
            {
                "msgid": _unquote(fields["msgid"]),
                "context": _unquote(fields["msgctxt"]) if "msgctxt" in fields else None,
                "plural": _unquote(fields["msgid_plural"]) if "msgid_plural" in fields else None,
                "msgstr": msgstrs,
                "fuzzy": "fuzzy" in flags,
            }
        )
    return [e for e in entries if e["msgid"]]


def test_it_translates_every_string_to_polish_without_fuzzy_entries():
    entries = parse_po(PO)
    assert len(entries) > 50
    missing = [e["msgid"] for e in entries if not all(e["msgstr"])]  # type: ignore[arg-type]
    fuzzy = [e["msgid"] for e in entries if e["fuzzy"]]
    assert missing == []
    assert fuzzy == []


def test_it_ships_a_compiled_catalogue_matching_the_po_file():
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for entry in parse_po(PO):
        msgid, context = str(entry["msgid"]), entry["context"]
        msgstrs = entry["msgstr"]
        assert isinstance(msgstrs, list)
        if entry["plural"] is None:
            found = (
                catalogue.gettext(msgid)
                if context is None
                else catalogue.pgettext(str(context), msgid)
            )
        elif context is None:
            found = catalogue.ngettext(msgid, str(entry["plural"]), 1)
        else:
            found = catalogue.npgettext(str(context), msgid, str(entry["plural"]), 1)
        assert found == msgstrs[0], (context, msgid)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is installed by make test")
def test_it_has_no_marked_string_missing_from_the_catalogue(tmp_path):
    """Run makemessages on a copy of the tree: it must find no msgid the .po lacks."""
    for name in [*SOURCE_DIRS, "templates"]:
        shutil.copytree(
            Path(settings.BASE_DIR) / name,
            tmp_path / name,
            ignore=shutil.ignore_patterns("tests", "__pycache__", "migrations"),
        )
    shutil.copytree(LOCALE, tmp_path / "locale")
    subprocess.run(
        ["django-admin", "makemessages", "-l", "pl", "--no-obsolete", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": str(Path(shutil.which("django-admin") or "").parent) + ":/usr/bin:/bin"},
    )
    fresh = {str(e["msgid"]) for e in parse_po(tmp_path / "locale/pl/LC_MESSAGES/django.po")}
    shipped = {str(e["msgid"]) for e in parse_po(PO)}
    assert sorted(fresh - shipped) == []
