"""Hostile targets, all at once, through the real probe engine, next to healthy bystanders.

One organization admits only ``127.0.0.2/32``. The hostile servers (a raw HTTP server that
behaves by path, a listener that never answers a TLS handshake, TLS servers with bad
certificates) run on ``127.0.0.2`` in their own thread and event loop, so their own work never
counts as engine lag. A redirect to ``127.0.0.1`` (a real listener) or ``10.0.0.1`` must be
refused by the guard; the ``netlog`` tripwire refuses any connect that would leave loopback.

How time is measured: ``CheckResult.checked_at`` is read by each check kind before any I/O,
so it is the check's *start*; no end time is stored. The end is taken where the engine takes
the outcome (``ProbeEngine.take_outcome``, which receives the loop time the check was launched
at), so "within timeout + 1 s" is measured from the engine's launch to the outcome in hand.
Schedule lag is ``now - due`` of each check the scheduler takes (``Schedule.pop_due``), the
same figure the engine's ``sitecare_schedule_lag_seconds`` histogram observes.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import CheckKind, CheckResult, Monitor
from monitoring.tests.hostile_servers import HOST, HostileServers
from monitoring.tests.loopback import CountingListener, NetLog, arun
from monitoring.tests.pki import Pki
from sites.models import Site
from tenancy.models import Client, Organization

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_S = 2.0
RUN_SECONDS = 7.0
BYSTANDERS = 20
MB = 1024 * 1024


# --- the hostile servers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile monitor and what its one result must say."""

    name: str
    kind: str
    url: str
    failure: FailureClass
    phase: str | None = None  # details["phase"]
    problem: str | None = None  # details["problem"] (TLS certificate kind)
    says: str = ""  # a part of the message


def hostile_cases(servers: HostileServers) -> list[Case]:
    """Every hostile case: HTTP ones by path, certificates both as TLS and HTTPS monitors."""
    http, tls_kind, timeout = CheckKind.HTTP, CheckKind.TLS, FailureClass.TIMEOUT
    blocked, too_large = FailureClass.BLOCKED_BY_POLICY, FailureClass.BODY_TOO_LARGE
    dns_error, url, stall = FailureClass.DNS_ERROR, servers.url, f"{HOST}:{servers.stall_port}"
    cases = [
        Case("silent", http, url("/silent"), timeout, "wait", says="response headers"),
        Case("trickle", http, url("/trickle"), timeout, "body", says="reading the body"),
        Case("reset", http, url("/reset"), FailureClass.CONNECTION_RESET, "body"),
        Case("endless", http, url("/endless"), too_large),
        Case("huge", http, url("/huge"), too_large),
        Case("huge-undeclared", http, url("/huge-undeclared"), too_large),
        Case("loop", http, url("/loop"), FailureClass.TOO_MANY_REDIRECTS),
        Case("to-private", http, url("/to-private"), blocked, "connect", says="10.0.0.1"),
        Case("to-loopback", http, url("/to-loopback"), blocked, says="127.0.0.1"),
        Case("tls-stall", tls_kind, stall, timeout, "tls", "handshake", "TLS handshake"),
        Case("https-stall", http, f"https://{stall}/", timeout, "tls", says="TLS handshake"),
        Case("tls-dns", tls_kind, "shop.invalid:443", dns_error, "dns", says="shop.invalid"),
        Case("http-dns", http, "http://shop.invalid/", dns_error, "dns", says="shop.invalid"),
    ]
    certificates = {
        "expired": ("expired", "certificate has expired"),
        "self-signed": ("self_signed", "self-signed certificate"),
        "wrong-host": ("hostname_mismatch", "mismatch"),
    }
    for name, (problem, openssl_says) in certificates.items():
        port, tls_error = servers.tls_ports[name], FailureClass.TLS_ERROR
        cases.append(Case(f"tls-{name}", tls_kind, f"{HOST}:{port}", tls_error, "tls", problem))
        https = f"https://{HOST}:{port}/"
        cases.append(Case(f"https-{name}", http, https, tls_error, "tls", says=openssl_says))
    return cases


def options_for(case: Case, ca_pem: str) -> dict[str, Any]:
    """The monitor's options: TLS trusts the test CA, so each certificate has one fault only."""
    if case.kind == CheckKind.TLS or case.url.startswith("https://"):
        return {"ca_pem": ca_pem}
    return {}


# --- measuring ----------------------------------------------------------------------------------


def rss_bytes() -> int:
    """The resident set size of this process now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class RssSampler:
    """Samples this process's RSS every few milliseconds in a thread; keeps the peak."""

    period_s: float = 0.01
    baseline: int = 0
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    @contextlib.contextmanager
    def running(self) -> Iterator[RssSampler]:
        self.baseline = self.peak = rss_bytes()
        thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(2)

    def _sample(self) -> None:
        while not self._stop.wait(self.period_s):
            self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@dataclass
class EngineProbe:
    """What the engine did, recorded at its own seams: launches' lag and outcomes' arrival."""

    lags: list[tuple[int, float, float]] = field(default_factory=list)  # id, when, lag
    # Each outcome taken: monitor id, seconds since launch, wall-clock time of the launch.
    taken: list[tuple[int, float, float]] = field(default_factory=list)

    def attach(self, engine: ProbeEngine, monkeypatch: pytest.MonkeyPatch) -> None:
        pop_due, take_outcome = engine.schedule.pop_due, engine.take_outcome

        def recording_pop(now: float, limit: int) -> list[tuple[int, float]]:
            popped = pop_due(now, limit)
            self.lags.extend((monitor_id, now, now - due) for monitor_id, due in popped)
            return popped

        def recording_take(outcome: Outcome, kind: str, started: float) -> None:
            took = asyncio.get_running_loop().time() - started
            self.taken.append((outcome.monitor_id, took, time.time() - took))
            take_outcome(outcome, kind, started)

        monkeypatch.setattr(engine.schedule, "pop_due", recording_pop)
        monkeypatch.setattr(engine, "take_outcome", recording_take)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


# --- the test -----------------------------------------------------------------------------------


@dataclass
class Run:
    cases: dict[int, Case]
    bystanders: list[int]
    engine: ProbeEngine
    probe: EngineProbe
    servers: HostileServers
    rss: RssSampler
    maxrss_growth: int
    loopback_accepted: int


def make_monitors(
    site: Site, servers: HostileServers, ca_pem: str
) -> tuple[dict[int, Case], list[int]]:
    cases: dict[int, Case] = {}
    for case in hostile_cases(servers):
        monitor = Monitor.objects.create(
            site=site,
            name=case.name,
            kind=case.kind,
            url=case.url,
            interval_s=60,
            timeout_s=TIMEOUT_S,
            recheck_s=30,  # one check each within the run: a second one would be a duplicate
            config=options_for(case, ca_pem),
        )
        cases[monitor.pk] = case
    bystanders = [
        Monitor.objects.create(
            site=site,
            name=f"bystander {i}",
            kind=CheckKind.HTTP,
            url=servers.url(f"/ok?b={i}"),
            interval_s=1,
            timeout_s=TIMEOUT_S,
        ).pk
        for i in range(BYSTANDERS)
    ]
    return cases, bystanders


@pytest.fixture
def site(db) -> Site:
    org = Organization.objects.create(name="Hostile", slug="hostile", ssrf_allowlist=f"{HOST}/32")
    client = Client.objects.create(organization=org, name="Target", slug="target")
    return Site.objects.create(client=client, name="Target", slug="target", url=f"http://{HOST}/")


def run_together(site: Site, monkeypatch: pytest.MonkeyPatch, pki: Pki) -> Run:
    """Every hostile case and the bystanders, checked together by one engine for a while."""
    config = EngineConfig.from_settings(
        flush_seconds=0.2, reload_seconds=0.5, stop_grace_seconds=2.0, metrics_port=0
    )
    engine = ProbeEngine(config, random.Random(3))
    probe = EngineProbe()
    probe.attach(engine, monkeypatch)

    async def scenario(hostile: list[int]) -> None:
        await engine.handle_one_reload(force=True)
        now = asyncio.get_running_loop().time()
        for monitor_id in hostile:  # every hostile check at once, right at the start
            engine.schedule.put(monitor_id, now)
        await engine.run(duration=RUN_SECONDS)

    with CountingListener("127.0.0.1") as loopback, HostileServers(pki, loopback.port) as servers:
        cases, bystanders = make_monitors(site, servers, pki.ca_pem)
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with RssSampler().running() as rss:
            arun(scenario(list(cases)))
        maxrss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before) * 1024
        accepted = loopback.accepted
    return Run(cases, bystanders, engine, probe, servers, rss, maxrss_growth, accepted)


def test_it_survives_every_hostile_target_at_once_while_bystanders_stay_on_time(
    site: Site, netlog: NetLog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = run_together(site, monkeypatch, Pki.create(tmp_path))
    figures = [
        *assert_one_result_each_of_the_right_class_in_time(run),
        *assert_memory_bounded_and_the_2_gb_never_read(run),
        *assert_bystanders_on_schedule(run),
    ]
    assert_private_redirects_refused_without_a_connect(run, netlog)
    print("\n" + "\n".join(figures))


def assert_one_result_each_of_the_right_class_in_time(run: Run) -> list[str]:
    """Exactly one result per hostile monitor, of the expected class and phase, in time."""
    arrivals = Counter(monitor_id for monitor_id, _took, _launched in run.probe.taken)
    launched = {monitor_id: at for monitor_id, _took, at in run.probe.taken}
    for monitor_id, case in run.cases.items():
        results = list(CheckResult.objects.filter(monitor_id=monitor_id))
        assert arrivals[monitor_id] == 1 and len(results) == 1, (case.name, arrivals[monitor_id])
        result = results[0]
        details = result.details or {}
        assert not result.ok, case.name
        # checked_at is the check's start: it matches the engine's launch.
        assert abs(result.checked_at.timestamp() - launched[monitor_id]) < 0.25, case.name
        assert result.failure_class == case.failure, (case.name, result.message)
        assert case.says in result.message, (case.name, result.message)
        if case.phase is not None:
            assert details.get("phase") == case.phase, (case.name, details)
        if case.problem is not None:
            assert details.get("problem") == case.problem, (case.name, details)
    took = {run.cases[m].name: t for m, t, _launched in run.probe.taken if m in run.cases}
    for name, seconds in took.items():
        assert seconds <= TIMEOUT_S + 1.0, (name, seconds)
    for name in ("silent", "trickle", "tls-stall", "https-stall"):
        # A timeout is the timeout: not cut short, not stretched by the engine's grace.
        assert took[name] >= TIMEOUT_S - 0.1, (name, took[name])
    slowest = max(took, key=lambda name: took[name])
    return [f"{len(took)} hostile checks; slowest {slowest} in {took[slowest]:.2f} s"]


def assert_memory_bounded_and_the_2_gb_never_read(run: Run) -> list[str]:
    sent = run.servers.sent
    # Whatever the kernel's socket buffers swallowed was sent; the rest was never asked for.
    for path in ("/huge", "/huge-undeclared", "/endless"):
        assert sent[path] < 64 * MB, (path, sent[path])
    assert run.rss.growth < 100 * MB, run.rss.growth
    assert run.maxrss_growth < 100 * MB, run.maxrss_growth
    offered = ", ".join(f"{path} {count / MB:.2f} MB" for path, count in sorted(sent.items()))
    return [
        f"RSS baseline {run.rss.baseline / MB:.1f} MB, peak growth {run.rss.growth / MB:.1f} MB"
        f" (ru_maxrss growth {run.maxrss_growth / MB:.1f} MB)",
        f"body bytes the servers handed to their sockets: {offered}",
    ]


def assert_bystanders_on_schedule(run: Run) -> list[str]:
    """Bystanders: lag p99 under 1 s (own record and the engine's histogram), none missed."""
    bystanders = set(run.bystanders)
    lags = [lag for monitor_id, _when, lag in run.probe.lags if monitor_id in bystanders]
    p99 = percentile(lags, 0.99)
    start = min(when for _m, when, _lag in run.probe.lags)
    worst, at = max((lag, when - start) for m, when, lag in run.probe.lags if m in bystanders)
    assert p99 < 1.0, p99
    registry = run.engine.metrics.registry
    within = registry.get_sample_value("sitecare_schedule_lag_seconds_bucket", {"le": "1.0"})
    total = registry.get_sample_value("sitecare_schedule_lag_seconds_count")
    assert total and within is not None and within / total >= 0.99, (within, total)
    for monitor_id in run.bystanders:
        results = list(CheckResult.objects.filter(monitor_id=monitor_id))
        # A check every second: none missed while the hostile checks ran.
        assert len(results) >= RUN_SECONDS - 1, (monitor_id, len(results))
        assert all(result.ok for result in results), [r.message for r in results if not r.ok]
    return [
        f"bystander lag over {len(lags)} checks: p50 {percentile(lags, 0.5) * 1000:.1f} ms,"
        f" p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms ({at:.2f} s into the run)"
    ]


def assert_private_redirects_refused_without_a_connect(run: Run, netlog: NetLog) -> None:
    refused = {address for kind, address in netlog.events if kind == "refuse"}
    assert {"10.0.0.1", "127.0.0.1"} <= refused, refused
    assert set(netlog.connects()) == {HOST}, Counter(netlog.connects())
    assert netlog.lookups == []
    assert run.loopback_accepted == 0
