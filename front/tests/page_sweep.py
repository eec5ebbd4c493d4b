"""The page sweep's list of pages and its checks (front/tests/test_page_sweep.py).

Every web UI page is one :class:`Page` in :data:`PAGES`: its URL name, the objects its URL
parameters name (keys of the sweep's objects) and the persona who opens it. A ``front:`` or
``status:`` URL name that is neither there nor in :data:`NOT_PAGES` (actions that only take a
POST, feeds that are not HTML) fails the sweep, so a new page cannot escape it: add it here,
and the objects its URL parameters name to ``sweep_objects`` in the test module.

The layout rule the sweep enforces, in both languages at 1,366 and 390 px:

- the page never scrolls sideways;
- no element's content spills out of its box (a table heading wider than its column, a word
  too long for its card): an element whose ``overflow-x`` is ``visible`` is never narrower
  than its content;
- at 1,366 px the top bar (brand, every navigation link, tools) is one line;
- every table sits in a ``.table-wrap`` (which scrolls, ``overflow-x: auto``); a scrolling
  element may actually scroll only when it is a ``.table-wrap--scroll`` (a table inherently
  wider than a phone, declared so in its template), and nothing scrolls sideways at 1,366 px.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

OWNER = "owner"  # the agency owner
CLIENT = "client"  # a user of client A
ANONYMOUS = "anonymous"  # nobody signed in (sign-in, public status pages, ack links)
PENDING = "pending"  # a user between the password and the two-factor code


@dataclass(frozen=True)
class Page:
    """One page of the sweep."""

    name: str  # the URL name, with its namespace
    persona: str = OWNER
    kwargs: dict[str, str] = field(default_factory=dict)  # URL parameter -> sweep object key
    status: int = 200
    # A page that answers a form: on the page ``via`` (a URL name taking the same parameters,
    # with ``via_query``), fill these fields and tick these checkboxes (CSS selectors) of the
    # form posting to ``name`` (its action, or a button's formaction), press ``submit`` and
    # sweep the answer.
    via: str = ""
    via_query: str = ""
    form: dict[str, str] = field(default_factory=dict)
    check: tuple[str, ...] = ()
    submit: str = "button[type=submit]"
    query: str = ""  # formatted with the sweep's objects: "?tag={tag}"

    @property
    def label(self) -> str:
        """A file-name-safe label for screenshots and reports."""
        words = [self.name.replace(":", "-"), self.persona, *self.kwargs.values()]
        for query in (self.via_query, self.query):
            if query:
                words.append(re.sub(r"\W+", "-", query).strip("-"))
        return "_".join(words)


CLIENT_A = {"client_id": "client_a"}
SITE_A = {"site_id": "site_a"}
MONITOR_A = {"monitor_id": "monitor_a"}
HEARTBEAT = {"monitor_id": "heartbeat"}
SPEED = {"monitor_id": "speed"}
TRANSACTION = {"monitor_id": "transaction"}
TRANSACTION_RUN = {"monitor_id": "transaction", "result_id": "transaction_run"}
# Every kind's form for a new monitor (monitoring.checks.KINDS).
KIND_NAMES = (
    "http",
    "dns",
    "domain",
    "tcp",
    "tls",
    "seo",
    "content",
    "heartbeat",
    "speed",
    "transaction",
)

PAGES: list[Page] = [
    Page("front:login", ANONYMOUS),
    Page("front:login_code", PENDING),
    Page("front:dashboard"),
    Page("front:dashboard", CLIENT),
    Page("front:client", kwargs=CLIENT_A),
    Page("front:client", CLIENT, kwargs=CLIENT_A),
    Page("front:client_plan", kwargs=CLIENT_A),
    Page("front:client_sla", kwargs=CLIENT_A),
    Page("front:client_sla", CLIENT, kwargs=CLIENT_A),
    Page("front:sla_overview"),
    Page("front:plans"),
    Page("front:plan_new"),
    Page("front:plan", kwargs={"plan_id": "plan"}),
    Page("front:site", kwargs={"site_id": "site_a"}),
    Page("front:site", CLIENT, kwargs={"site_id": "site_a"}),
    Page("front:monitor", kwargs={"monitor_id": "monitor_a"}),
    Page("front:monitor", CLIENT, kwargs={"monitor_id": "monitor_a"}),
    Page("front:monitor", kwargs=HEARTBEAT),
    Page("front:monitor", CLIENT, kwargs=HEARTBEAT),
    Page("front:monitor", kwargs=SPEED),
    Page("front:monitor_speed", kwargs=SPEED),
    Page("front:monitor_speed", CLIENT, kwargs=SPEED),
    Page("front:client_new"),
    Page("front:client_edit", kwargs=CLIENT_A),
    Page("front:client_delete", kwargs=CLIENT_A),
    Page("front:site_new", kwargs=CLIENT_A),
    Page("front:site_edit", kwargs=SITE_A),
    Page("front:site_delete", kwargs=SITE_A),
    Page("front:monitor_new", kwargs=SITE_A),  # the kinds to choose from
    *[Page("front:monitor_new", kwargs=SITE_A, query=f"?kind={kind}") for kind in KIND_NAMES],
    Page("front:monitor_edit", kwargs=MONITOR_A),
    Page("front:monitor_edit", kwargs=HEARTBEAT),
    # "Test now" with a name the network policy refuses once resolved (from /etc/hosts): the
    # result panel, no traffic (an address refused as typed would be a field error instead).
    Page(
        "front:monitor_test",
        kwargs=SITE_A,
        via="front:monitor_new",
        via_query="?kind=http",
        form={"name": "Loopback", "url": "http://localhost:9/"},
        submit="button[value=test]",
    ),
    # A transaction monitor: its step editor, its page with the latest run, a run's page.
    Page("front:monitor_new", kwargs=SITE_A, query="?kind=transaction"),
    Page("front:monitor_edit", kwargs=TRANSACTION),
    Page("front:monitor", kwargs=TRANSACTION),
    Page("front:transaction_result", kwargs=TRANSACTION_RUN),
    Page("front:transaction_result", CLIENT, kwargs=TRANSACTION_RUN),
    Page("front:monitor_clone", kwargs=MONITOR_A),
    Page("front:monitor_delete", kwargs=MONITOR_A),
    Page("front:monitors"),
    Page("front:monitors", query="?tag={tag}&state=down"),
    Page("front:monitors", CLIENT),
    # A bulk deletion first shows what goes with the monitors.
    Page(
        "front:monitors_bulk",
        via="front:monitors",
        check=("[name=monitor]",),
        submit="button[value=delete]",
    ),
    Page("front:tags"),
    Page("front:tag", kwargs={"tag_id": "tag"}),
    Page("front:maintenance", kwargs=CLIENT_A),
    Page("front:maintenance_window", kwargs={"window_id": "window"}),
    Page("front:incidents"),
    Page("front:incidents", CLIENT),
    Page("front:incident", kwargs={"incident_id": "incident_open"}),
    Page("front:incident", CLIENT, kwargs={"incident_id": "incident_a"}),
    Page("front:incident_ack_link", ANONYMOUS, kwargs={"token": "ack_token"}),
    Page("front:escalation"),
    Page("front:escalation_new"),
    Page("front:escalation_policy", kwargs={"policy_id": "policy"}),
    Page("front:incident_public_updates", kwargs={"incident_id": "incident_open"}),
    Page("front:statuspages", kwargs=CLIENT_A),
    Page("front:statuspage", kwargs={"page_id": "status_page"}),
    Page("front:channels"),
    Page("front:channels", CLIENT),
    Page("front:channel", kwargs={"channel_id": "channel"}),
    Page("front:oncall"),
    Page("front:oncall_new"),
    Page("front:oncall_schedule", kwargs={"schedule_id": "schedule"}),
    Page("front:oncall_edit", kwargs={"schedule_id": "schedule"}),
    Page("front:profile"),
    Page("front:profile", CLIENT),
    Page("front:token_create", via="front:profile", form={"name": "deploy script"}),
    Page("front:two_factor"),
    Page("core:demo"),
    Page("status:page", ANONYMOUS, kwargs={"slug": "status_slug"}),
    Page("status:confirm", ANONYMOUS, {"slug": "status_slug", "token": "stale"}, status=404),
    Page("status:unsubscribe", ANONYMOUS, {"slug": "status_slug", "token": "stale"}, 404),
    Page(
        "status:subscribe",
        ANONYMOUS,
        {"slug": "status_slug"},
        via="status:page",
        form={"email": "reader@example.com"},
    ),
]
# Error pages: a path nothing answers, signed in and not.
ERROR_PATHS: list[tuple[str, str]] = [(OWNER, "/no-such-page/"), (ANONYMOUS, "/no-such-page/")]

# URL names that are not pages of their own, and why.
NOT_PAGES: dict[str, str] = {
    **dict.fromkeys(
        [
            "front:logout",
            "front:set_language",
            "front:plan_delete",
            "front:client_plan_step_delete",
            "front:plan_examples",
            "front:monitor_accept_content",
            "front:incident_acknowledge",
            "front:incident_resolve",
            "front:incident_note",
            "front:incident_details",
            "front:escalation_delete",
            "front:oncall_delete",
            "front:oncall_override_delete",
            "front:profile_language",
            "front:password_change",
            "front:two_factor_disable",
            "front:agency_two_factor",
            "front:personal_channel_create",
            "front:personal_channel_act",
            "front:token_revoke",
            "front:tag_delete",
            "front:monitor_pause",
            "front:monitor_resume",
        ],
        "post-only",  # an action that redirects back to the page it was sent from
    ),
    "front:two_factor_recovery_codes": "post-only",  # front/tests/test_csp_browser.py
    "front:oncall_ical": "not html",
    "front:artifact": "not html",  # a screenshot or trace (front/tests/test_transaction_result)
    "status:json": "not html",
    "status:css": "not html",
    "status:badge": "not html",
    "status:atom": "not html",
    "status:ical": "not html",
}
# The URL parameters of the post-only actions that take some (world attribute names).
POST_ONLY_KWARGS: dict[str, dict[str, str]] = {
    "front:monitor_pause": {"monitor_id": "monitor_a"},
    "front:monitor_resume": {"monitor_id": "monitor_a"},
}

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_FILE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

# axe-core's verdict: each violation with the elements it found.
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary.replace(/\\s+/g, ' '))
  }));
}"""

# The layout rule of the module docstring, as found in the page laid out.
LAYOUT_PROBLEMS = """(wide) => {
  const found = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className
       ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (el.innerText || '').trim().slice(0, 50).replace(/\\s+/g, ' ') + '"';
  const root = document.scrollingElement;
  if (root.scrollWidth > window.innerWidth) {
    found.push(`page scrolls sideways: ${root.scrollWidth} > ${window.innerWidth}`);
  }
  const links = [...document.querySelectorAll('.topbar .brand, .mainnav a, .topbar__tools')];
  const middles = links.map(a => a.getBoundingClientRect())
    .map(box => box.top + box.height / 2);
  if (wide && Math.max(...middles) - Math.min(...middles) > 12) {
    found.push('the top bar takes more than one line');
  }
  for (const table of document.querySelectorAll('table')) {
    if (!table.closest('.table-wrap')) found.push('table outside a .table-wrap: ' + name(table));
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (!(el instanceof HTMLElement) || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.display.startsWith('inline') && style.display !== 'inline-block'
        && style.display !== 'inline-flex' && style.display !== 'inline-grid') continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
    if (style.overflowX === 'visible') {
      found.push(`spills out of its box (${el.scrollWidth} > ${el.clientWidth}): ` + name(el));
    } else if (scrolls && (wide || !el.classList.contains('table-wrap--scroll'))) {
      found.push(`scrolls sideways (${el.scrollWidth} > ${el.clientWidth}): ` + name(el));
    }
  }
  return found;
}"""

# Text a reader sees (or hears): visible text nodes and the placeholders, labels and values
# of controls, each with the language it is marked as being in.
VISIBLE_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, template, [hidden], [data-user]')) continue;
    if (parent.getClientRects().length === 0) continue;
    texts.push([node.textContent, parent.closest('[lang]')?.lang || '']);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], input[type=submit]')) {
    if (el.closest('[data-user]')) continue;
    for (const attr of ['placeholder', 'aria-label', 'value']) {
      if (attr === 'value' && el.type !== 'submit') continue;
      const value = el.getAttribute(attr);
      if (value) texts.push([value, el.closest('[lang]')?.lang || '']);
    }
  }
  texts.push([document.title, document.documentElement.lang]);
  return texts;
}"""

_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{\s*\w+\s*\}\}|\{\w*\}")


def _squeeze(text: str) -> str:
    return " ".join(text.split())


class EnglishFinder:
    """Finds the English msgids of the Polish catalogue that a Polish page still shows."""

    def __init__(self, mo_file: Path) -> None:
        with mo_file.open("rb") as stream:
            catalog = gettext.GNUTranslations(stream)._catalog  # type: ignore[attr-defined]
        self.exact: set[str] = set()
        patterns: list[str] = []
        for key, translated in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if not msgid or "\x04" in msgid or _squeeze(translated) == _squeeze(msgid):
                continue
            text = _squeeze(msgid)
            if len(text) < 3:
                continue
            if _PLACEHOLDER.search(text):
                parts = _PLACEHOLDER.split(text)
                if sum(len(p.strip()) for p in parts) >= 8:  # enough words to be telling
                    patterns.append(".+?".join(re.escape(p) for p in parts))
            else:
                self.exact.add(text)
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def english(self, texts: list[tuple[str, str]], user_data: set[str]) -> list[str]:
        """The texts (outside elements marked in another language) that are msgids."""
        found: list[str] = []
        for raw, lang in texts:
            text = _squeeze(raw)
            if not text or text in user_data or (lang and not lang.startswith("pl")):
                continue
            if text in self.exact or (self.pattern and self.pattern.fullmatch(text)):
                found.append(text)
        return found
