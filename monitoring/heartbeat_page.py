"""What a heartbeat monitor's page shows, as data: its ping URLs and ready examples, its
schedule, where it stands now (waiting for its first ping, on time, late, failed, running) and
its latest pings. Times stay datetimes and states stay values, so the page renders them in the
reader's language and time zone (never sentences stored in one language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from monitoring.checks.heartbeat import Options
from monitoring.heartbeats import Facts, next_expected, ping_url
from monitoring.models import HeartbeatPing, Monitor, PingKind

SHOWN_PINGS = 20
BODY_EXCERPT_CHARS = 300
CURL = "curl -fsS -m 10 --retry 5 -o /dev/null"


class Standing(TextChoices):
    """Where a heartbeat stands now, as its page says it."""

    WAITING = "waiting", _("Waiting for its first ping")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")
    FAILED = "failed", _("The job reported a failure")
    RUNNING = "running", _("Running")
    OVERRUN = "overrun", _("Running longer than allowed")


@dataclass(frozen=True)
class Schedule:
    """A heartbeat's schedule: a period or a cron expression with its zone, plus grace."""

    period_s: int | None
    cron: str | None
    time_zone: str
    grace_s: int
    max_runtime_s: int | None


@dataclass(frozen=True)
class Examples:
    """Ready-to-paste ways to ping (the URL already in each)."""

    curl: str
    crontab: str
    wrapped: str
    failure: str


@dataclass(frozen=True)
class PingRow:
    """A ping as the page lists it, with its run time when it ended a started run."""

    ping: HeartbeatPing
    run_s: float | None = None


@dataclass(frozen=True)
class HeartbeatInfo:
    ping_url: str
    start_url: str
    fail_url: str
    schedule: Schedule | None  # None: the stored options are invalid (the engine says why)
    examples: Examples
    standing: Standing
    last_signal_at: datetime | None
    last_start_at: datetime | None
    last_exit_code: int | None
    expected_by: datetime | None  # the deadline of the next ping, grace included
    pings: list[PingRow]


def cron_hint(schedule: Schedule | None) -> str:
    """The cron fields of the crontab example: the schedule's own, or a period's nearest."""
    if schedule is None:
        return "0 3 * * *"
    if schedule.cron:
        return schedule.cron
    period = schedule.period_s or 86_400
    if period % 86_400 == 0:
        return "0 3 * * *"
    if period % 3_600 == 0:
        hours = period // 3_600
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    minutes = max(1, period // 60)
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


def examples_for(url: str, schedule: Schedule | None) -> Examples:
    """A curl call, a crontab line, and the ``/start`` + exit-code and ``/fail`` forms."""
    zone_line = ""
    if schedule is not None and schedule.cron and schedule.time_zone != "UTC":
        zone_line = f"CRON_TZ={schedule.time_zone}\n"
    job = "/path/to/job.sh"
    return Examples(
        curl=f"{CURL} {url}",
        crontab=f"{zone_line}{cron_hint(schedule)} {job} && {CURL} {url}",
        wrapped=f"{CURL} {url}/start\n{job}\n{CURL} {url}/$?",
        # POSIX sh (what cron runs): the log's last KiB goes with the failure.
        failure=f"if {job} > /tmp/job.log 2>&1; then {CURL} {url}\n"
        f"else tail -c 1000 /tmp/job.log | curl -fsS -m 10 --retry 5 --data-binary @- {url}/fail"
        "\nfi",
    )


def schedule_of(monitor: Monitor) -> tuple[Schedule | None, Options | None]:
    try:
        options = Options.model_validate(monitor.config_for_engine())
    except ValidationError:
        return None, None
    schedule = Schedule(
        period_s=options.period_s if options.cron is None else None,
        cron=options.cron,
        time_zone=options.time_zone,
        grace_s=options.grace,
        max_runtime_s=options.max_runtime,
    )
    return schedule, options


def facts_of(monitor: Monitor, pings: list[HeartbeatPing]) -> Facts:
    """The verdict's facts from the monitor's latest pings of each kind."""
    latest: dict[str, HeartbeatPing] = {}
    for kind in PingKind.values:
        found = next((p for p in pings if p.kind == kind), None)
        if found is None:
            found = (
                HeartbeatPing.objects.filter(monitor=monitor, kind=kind)
                .order_by("-received_at", "-pk")
                .first()
            )
        if found is not None:
            latest[kind] = found
    results = [latest[k] for k in (PingKind.SUCCESS, PingKind.FAIL) if k in latest]
    signal = max(results, key=lambda p: (p.received_at, p.pk), default=None)
    start = latest.get(PingKind.START)
    return Facts(
        created_at=monitor.created_at,
        last_signal_at=signal.received_at if signal else None,
        last_signal_kind=signal.kind if signal else "",
        last_exit_code=signal.exit_code if signal else None,
        last_start_at=start.received_at if start else None,
    )


def standing_of(
    monitor: Monitor, options: Options | None, facts: Facts, now: datetime
) -> tuple[Standing, datetime | None]:
    """Where the heartbeat stands and when the next ping is due (grace included).

    1. A reported failure as the latest result: failed.
    2. A start with no result after it: running, or overrun past ``max_runtime``.
    3. No ping ever: waiting for the first (late once its deadline passed).
    4. Else on time until the deadline, late after it.
    """
    deadline = None
    if options is not None:
        reference = facts.last_signal_at or facts.created_at
        deadline = next_expected(options, reference) + timedelta(seconds=options.grace)
    if facts.last_signal_kind == PingKind.FAIL:
        return Standing.FAILED, deadline
    started = facts.last_start_at
    if started is not None and (facts.last_signal_at is None or facts.last_signal_at < started):
        limit = options.max_runtime if options is not None else None
        if limit is not None and now > started + timedelta(seconds=limit):
            return Standing.OVERRUN, deadline
        return Standing.RUNNING, deadline
    late = deadline is not None and now > deadline
    if monitor.first_ping_at is None and facts.last_signal_at is None:
        return (Standing.LATE if late else Standing.WAITING), deadline
    return (Standing.LATE if late else Standing.ON_TIME), deadline


def ping_rows(pings: list[HeartbeatPing]) -> list[PingRow]:
    """The pings (newest first) with the run time of each result that ended a started run:
    the time since the ``/start`` just before it, as Healthchecks shows it."""
    run_times: dict[int, float] = {}
    started: datetime | None = None
    for ping in reversed(pings):
        if ping.kind == PingKind.START:
            started = ping.received_at
        elif started is not None:
            run_times[ping.pk] = (ping.received_at - started).total_seconds()
            started = None
    return [PingRow(ping, run_times.get(ping.pk)) for ping in pings]


def excerpt(body: str) -> str:
    return body if len(body) <= BODY_EXCERPT_CHARS else body[:BODY_EXCERPT_CHARS] + "…"


def heartbeat_info(monitor: Monitor, now: datetime) -> HeartbeatInfo:
    """Everything a heartbeat's page shows (at most four queries)."""
    pings = list(
        HeartbeatPing.objects.filter(monitor=monitor).order_by("-received_at", "-pk")[:SHOWN_PINGS]
    )
    for ping in pings:
        ping.body = excerpt(ping.body)
    schedule, options = schedule_of(monitor)
    facts = facts_of(monitor, pings)
    standing, deadline = standing_of(monitor, options, facts, now)
    url = ping_url(monitor.url)
    return HeartbeatInfo(
        ping_url=url,
        start_url=ping_url(monitor.url, "start"),
        fail_url=ping_url(monitor.url, "fail"),
        schedule=schedule,
        examples=examples_for(url, schedule),
        standing=standing,
        last_signal_at=facts.last_signal_at,
        last_start_at=facts.last_start_at,
        last_exit_code=facts.last_exit_code,
        expected_by=deadline,
        pings=ping_rows(pings),
    )
