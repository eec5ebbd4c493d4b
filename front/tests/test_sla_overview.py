"""The agency's SLA overview page (``/sla/``): who may open it, the order and the figures."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from front.tests.conftest import signed_in
from sla.tests.overview_world import APART, NOW, ORDER, build_agency

URL = "/sla/"


def text(html: str) -> str:
    """The words without tags, runs of spaces made one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def rows(html: str, table_id: str) -> list[str]:
    """Each body row of the table, as words."""
    body = html.split(f'id="{table_id}"')[1].split("<tbody>")[1].split("</tbody>")[0]
    return [text(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def overview_page(user) -> str:
    response = signed_in(user).get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_it_lives_at_sla():
    assert reverse("front:sla_overview") == URL


@pytest.mark.parametrize("persona", ["owner", "engineer"])
@time_machine.travel(NOW, tick=False)
def test_it_shows_every_client_riskiest_first_to_agency_members(world, persona):
    build_agency(world)
    html = overview_page(getattr(world, persona))
    table = rows(html, "standings")
    assert len(table) == len(ORDER)
    assert [row[: len(name) + 1] for row, name in zip(table, ORDER, strict=True)] == [
        f"{name} " for name in ORDER
    ]
    apart = rows(html, "unassessed")
    assert [row.split(" ", 1)[0] for row in apart] == APART


@time_machine.travel(NOW, tick=False)
def test_it_words_each_standing_as_the_sla_page_does(world):
    agency = build_agency(world)
    html = overview_page(world.owner)
    a, c, b, _alpha, delta = rows(html, "standings")
    # A: 60 min down in 10 days against 99.9 %; a budget of 44 min 38.4 s, used up.
    assert a == (
        "Client A Plan: A care 2026-10 UTC 99.583 % target 99.9 % 134.4 % burn rate 4.16× "
        "used up on 5 Oct 2026, 10:44 Missed 1 100.00 PLN"
    )
    # C: a 100 % target allows nothing, so one minute used it up (no share, no burn rate).
    assert c == (
        "Client C Plan: C care 2026-10 UTC 99.993 % target 100 % — burn rate — "
        "used up on 6 Oct 2026, 08:00 Missed 1 0.00 PLN"
    )
    # B: on course; its one breach is the incident's response (20 min against 5).
    assert b == (
        "Client B Plan: B care 2026-10 UTC 99.791 % target 99.5 % 13.4 % burn rate 0.41× "
        "lasts the window On track 1 0.00 PLN"
    )
    assert delta == (
        "Delta Plan: Delta care 2026-Q4 Europe/Warsaw — target 99.95 % 0.0 % burn rate — "
        "nothing counted yet Nothing known 0 0.00 PLN"
    )
    future, zeta = rows(html, "unassessed")
    assert zeta == "Zeta no plan · Assign a plan 99.000 % 2026-10, 24/7"
    # Its plan history starts in November: October has no plan, the next step is named.
    assert future == "Future Future care, in force from 1 Nov 2026 — 2026-10, 24/7"
    # Links: each client's own SLA page, and the plan.
    assert reverse("front:client_sla", args=[agency.a.pk]) in html
    assert reverse("front:client_sla", args=[agency.zeta.pk]) in html
    assert reverse("front:plan", kwargs={"plan_id": agency.a.plan_steps.get().plan_id}) in html


@time_machine.travel(NOW, tick=False)
def test_it_draws_the_share_used_as_a_bar(world):
    build_agency(world)
    html = overview_page(world.owner)
    table = html.split('id="standings"')[1]
    bars = re.findall(r'<rect width="([\d.]+)" height="8" rx="2" fill="(#\w+)"/></svg>', table)
    # A and C used up (full, red); B 13.44 % (green); Alpha and Delta nothing.
    assert bars == [
        ("100.0", "#dc2626"),
        ("100.0", "#dc2626"),  # a budget of nothing, used up: full too
        ("13.4", "#16a34a"),
        ("0.0", "#16a34a"),
        ("0.0", "#16a34a"),
    ]


def test_it_offers_assigning_a_plan_to_owners_only(world):
    html = overview_page(world.engineer)
    assert "Assign a plan" not in html and "Client A" in html
    assert "Assign a plan" in overview_page(world.owner)


def test_it_says_so_when_no_client_has_a_plan(world):
    assert "No client has a care plan in force in this window." in overview_page(world.owner)


@pytest.mark.parametrize("persona", ["client_a_user", "client_b_user"])
def test_it_does_not_exist_for_client_users(world, persona):
    build_agency(world)
    response = signed_in(getattr(world, persona)).get(URL)
    assert response.status_code == 404


def test_it_sends_strangers_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_is_linked_from_the_agency_navigation_only(world):
    link = f'href="{URL}"'
    assert link in overview_page(world.owner)
    response = signed_in(world.client_a_user).get(reverse("front:dashboard"))
    assert response.status_code == 200 and link not in response.content.decode()
