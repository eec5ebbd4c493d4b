"""Every pause and resume is recorded with its time and who did it, from every path that pauses:
the API (its token and owner), config as code (the file), the admin (the user); shown on the
monitor's page; a heartbeat's first ping is kept on the monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as HttpClient
from django.urls import reverse

from api.tests.conftest import ApiCaller
from core.configcode import apply_config
from monitoring.heartbeats import Ping, record_ping
from monitoring.models import CheckKind, Monitor, PauseAction, PauseEvent, PauseVia
from monitoring.pauses import Actor, set_enabled
from tenancy.models import ApiToken

T0 = datetime(2026, 10, 2, 10, tzinfo=UTC)


def events(monitor: Monitor) -> list[tuple[datetime, str, str, str]]:
    return [
        (e.at, e.action, e.via, e.actor)
        for e in PauseEvent.objects.filter(monitor=monitor).order_by("at", "pk")
    ]


def test_it_records_pauses_and_resumes_through_the_api_with_the_token_and_its_owner(world):
    token, raw = ApiToken.issue(world.engineer, "deploy script")
    api = ApiCaller(raw)
    url = f"/monitors/{world.monitor_a.pk}"
    with time_machine.travel(T0, tick=False):
        assert api.patch(url, {"enabled": False}).status_code == 200
        assert api.patch(url, {"name": "Home page"}).status_code == 200  # no pause: no event
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert api.patch(url, {"enabled": True}).status_code == 200
    who = f"{token} · engineer"
    assert events(world.monitor_a) == [
        (T0, PauseAction.PAUSED, PauseVia.API, who),
        (T0 + timedelta(hours=1), PauseAction.RESUMED, PauseVia.API, who),
    ]
    paused = PauseEvent.objects.filter(monitor=world.monitor_a).first()
    assert paused is not None and (paused.user, paused.token) == (world.engineer, token)
    world.monitor_a.refresh_from_db()
    assert world.monitor_a.enabled and world.monitor_a.name == "Home page"


def test_it_records_a_monitor_created_paused_through_the_api(world):
    _token, raw = ApiToken.issue(world.owner, "tests")
    with time_machine.travel(T0, tick=False):
        response = ApiCaller(raw).post(
            "/monitors",
            {
                "site": world.site_a.pk,
                "name": "Later",
                "url": "https://a.example/x",
                "enabled": False,
            },
        )
    assert response.status_code == 201, response.content
    monitor = Monitor.objects.get(pk=response.json()["id"])
    assert [e[:3] for e in events(monitor)] == [(T0, PauseAction.PAUSED, PauseVia.API)]


DOCUMENT = """\
version: 1
agency: {slug: agency, name: Agency}
clients:
  - slug: client-a
    name: Client A
    sites:
      - slug: shop-a
        name: Shop A
        url: https://a.example
        monitors:
          - {name: Home, url: "https://a.example/", enabled: ENABLED}
"""


def test_it_records_pauses_from_the_configuration_file_as_its_actor(world):
    paused = DOCUMENT.replace("ENABLED", "false")
    with time_machine.travel(T0, tick=False):
        report = apply_config(paused, dry_run=True, source="sites.yaml")
        assert "enabled: true → false" in report.render()
        assert events(world.monitor_a) == []  # a dry run records nothing
        apply_config(paused, source="sites.yaml")
        assert apply_config(paused, source="sites.yaml").is_empty  # nothing twice
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        apply_config(DOCUMENT.replace("ENABLED", "true"), source="sites.yaml")
    assert events(world.monitor_a) == [
        (T0, PauseAction.PAUSED, PauseVia.CONFIG, "sites.yaml"),
        (T0 + timedelta(hours=2), PauseAction.RESUMED, PauseVia.CONFIG, "sites.yaml"),
    ]


def test_it_records_pauses_from_the_admin_with_the_user(admin_client, world):
    change = reverse("admin:monitoring_monitor_change", args=[world.monitor_a.pk])
    form = {
        "site": world.site_a.pk,
        "name": "Home",
        "kind": "http",
        "url": "https://a.example/",
        "config": "{}",
        "interval_s": 60,
        "timeout_s": 10,
        "confirm_down": 3,
        "confirm_up": 2,
        "recheck_s": 10,
        "critical": "true",
    }  # "enabled" left unticked: pause
    with time_machine.travel(T0, tick=False):
        assert admin_client.post(change, form).status_code == 302
    assert events(world.monitor_a) == [(T0, PauseAction.PAUSED, PauseVia.ADMIN, "admin")]
    world.monitor_a.refresh_from_db()
    assert world.monitor_a.enabled is False


def test_it_shows_pauses_on_the_monitors_timeline_to_whoever_sees_it(world):
    """Review L1: the agency reads who paused and by which path; a client's user reads "by
    the agency", never the agency's token names or admin_client user names."""
    token, _raw = ApiToken.issue(world.owner, "ci")
    with time_machine.travel(T0, tick=False):
        set_enabled(world.monitor_a, False, Actor.api(world.owner, token))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        set_enabled(world.monitor_a, True, Actor.config("sites.yaml"))
    url = reverse("front:monitor", args=[world.monitor_a.pk])
    owner = HttpClient()
    owner.force_login(world.owner)
    timeline = unescape(owner.get(url).content.decode().split('id="timeline"')[1])
    resumed = timeline.index("Resumed by the configuration file sites.yaml")
    assert resumed < timeline.index("Paused through the API (token “ci”, owner)")  # newest first
    client = HttpClient()
    client.force_login(world.client_a_user)
    timeline = unescape(client.get(url).content.decode().split('id="timeline"')[1])
    timeline = timeline.split("</ol>")[0]
    assert timeline.index("Resumed by the agency") < timeline.index("Paused by the agency")
    assert "ci" not in timeline and "owner" not in timeline and token.hint not in timeline
    assert "sites.yaml" not in timeline
    other = HttpClient()
    other.force_login(world.client_b_user)
    assert other.get(url).status_code == 404


def test_it_keeps_a_heartbeats_first_ping(world):
    beat = Monitor.objects.create(
        site=world.site_a, name="Backup", kind=CheckKind.HEARTBEAT, url="token-1"
    )
    assert beat.first_ping_at is None
    with time_machine.travel(T0, tick=False):
        assert record_ping(beat.pk, "token-1", Ping(kind="success"))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert record_ping(beat.pk, "token-1", Ping(kind="success"))
    beat.refresh_from_db()
    assert beat.first_ping_at == T0


@pytest.mark.django_db(transaction=True)
def test_it_records_the_pauses_and_first_pings_from_before_it_was_kept() -> None:
    after = [("monitoring", "0012_pause_events_and_first_ping")]
    executor = MigrationExecutor(connection)
    # Every other app as it is now, monitoring as it was before pauses were kept.
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "monitoring"]
    before = [*others, ("monitoring", "0011_critical_and_engine_runs")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        agency = old.get_model("tenancy", "Organization").objects.create(name="A", slug="a")
        client = old.get_model("tenancy", "Client").objects.create(
            organization=agency, name="C", slug="c"
        )
        site = old.get_model("sites", "Site").objects.create(client=client, name="S", slug="s")
        monitors = old.get_model("monitoring", "Monitor").objects
        pings = old.get_model("monitoring", "HeartbeatPing").objects
        paused = monitors.create(site=site, name="Paused", url="https://s.example/", enabled=False)
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        old_beat = monitors.create(site=site, name="Old", kind="heartbeat", url="t1")
        new_beat = monitors.create(site=site, name="New", kind="heartbeat", url="t2")
        silent = monitors.create(site=site, name="Silent", kind="heartbeat", url="t3")
        monitors.filter(pk=old_beat.pk).update(created_at=long_ago)
        recent = datetime.now(UTC) - timedelta(days=1)
        monitors.filter(pk=new_beat.pk).update(created_at=recent - timedelta(days=1))
        for beat in (old_beat, new_beat):
            pings.create(monitor=beat, received_at=recent, kind="success")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        found = new.get_model("monitoring", "PauseEvent").objects.values_list(
            "monitor_id", "action", "via"
        )
        assert list(found) == [(paused.pk, "paused", "system")]
        firsts = dict(
            new.get_model("monitoring", "Monitor").objects.values_list("pk", "first_ping_at")
        )
        assert firsts[old_beat.pk] == long_ago  # its first pings may be pruned: since creation
        assert firsts[new_beat.pk] == recent
        assert firsts[silent.pk] is None
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
