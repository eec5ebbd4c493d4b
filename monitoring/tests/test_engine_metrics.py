"""The engine's Prometheus endpoint: scraped from a running engine on a free loopback port."""

from __future__ import annotations

import asyncio
import random
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor
from monitoring.tests.loopback import ToggleServer, arun


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine(port: int = 0) -> ProbeEngine:
    config = EngineConfig.from_settings(
        flush_seconds=0.1, reload_seconds=0.2, stop_grace_seconds=2.0, metrics_port=port
    )
    return ProbeEngine(config, random.Random(9))


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the endpoint, keyed by name and sorted labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("netlog")
def test_it_exposes_checks_failures_lag_queue_and_writes(world):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.update(enabled=False)
    closed = free_port()  # nothing listens there: connection refused
    port = free_port()
    with ToggleServer() as server:
        for name, url in (("a", server.url("/a")), ("b", server.url("/b"))):
            Monitor.objects.create(
                site=world.site_a, name=name, kind=CheckKind.HTTP, url=url, interval_s=1
            )
        Monitor.objects.create(
            site=world.site_a,
            name="refused",
            kind=CheckKind.HTTP,
            url=f"http://127.0.0.1:{closed}/",
            interval_s=1,
        )
        probe = engine(port)

        async def scenario():
            runner = asyncio.create_task(probe.run())
            await asyncio.sleep(2.5)
            samples = await asyncio.to_thread(scrape, port)
            probe.request_stop()
            await runner
            return samples

        samples = arun(scenario())
    checks = samples[("sitecare_checks_total", (("kind", "http"),))]
    refused = samples[
        (
            "sitecare_check_failures_total",
            (("failure_class", FailureClass.CONNECTION_REFUSED.value), ("kind", "http")),
        )
    ]
    assert checks >= 4 and 1 <= refused < checks
    assert samples[("sitecare_results_written_total", ())] >= 1
    assert samples[("sitecare_schedule_lag_seconds_count", ())] >= checks
    assert samples[("sitecare_schedule_lag_seconds_bucket", (("le", "1.0"),))] >= checks
    assert samples[("sitecare_monitors_scheduled", ())] == 3
    assert 0 <= samples[("sitecare_checks_in_flight", ())] <= 3
    assert samples[("sitecare_pending_results", ())] >= 0
    with pytest.raises(OSError):  # the endpoint closes with the engine
        scrape(port)


def test_it_keeps_each_engines_metrics_apart():
    async def scenario():
        first, second = engine(), engine()
        first.metrics.count_check("http", False, "timeout")
        first.metrics.count_check("http", True, "")
        await first.shutdown()
        await second.shutdown()
        return first, second

    first, second = arun(scenario())
    read = first.metrics.registry.get_sample_value
    assert read("sitecare_checks_total", {"kind": "http"}) == 2
    assert read("sitecare_check_failures_total", {"kind": "http", "failure_class": "timeout"}) == 1
    assert (
        second.metrics.registry.get_sample_value("sitecare_checks_total", {"kind": "http"}) is None
    )


@pytest.mark.django_db(transaction=True)
def test_it_runs_on_when_the_metrics_port_is_taken():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        async def scenario():
            probe = engine(port)
            await probe.run(duration=0.3)  # no monitors: runs, stops, never raises
            return probe

        probe = arun(scenario())
    assert probe.metrics.port is None
