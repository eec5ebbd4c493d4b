"""Postmortems are written in Markdown and shown as HTML that can run nothing.

markdown-it-py renders CommonMark (plus tables and strikethrough) with raw HTML turned off, so
``<script>`` or ``<img onerror=…>`` in the text come out as visible text. Links keep only
http, https and mailto addresses (or relative ones): ``javascript:``, ``data:``, ``vbscript:``
and every other scheme leave the text unlinked. Images are not rendered at all, so a
postmortem cannot make readers' browsers fetch outside addresses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")


def is_safe_link(url: str) -> bool:
    """Relative addresses and http, https and mailto ones; nothing that runs or embeds."""
    match = _SCHEME.match(url)
    return match is None or match.group(1).lower() in ALLOWED_SCHEMES


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Links lead out of sitecare: no referrer, no access to this window, no endorsement.
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return str(self.renderToken(tokens, idx, options, env))


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


_MARKDOWN = _build()


def render_markdown(text: str) -> SafeString:
    """The text as safe HTML (see the module's docstring for what "safe" covers)."""
    return mark_safe(_MARKDOWN.render(text))  # noqa: S308 - raw HTML is off, links checked
