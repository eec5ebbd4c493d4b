"""A client's SLA for a period: availability, error budget, breaches and the credit owed.

The client's timeline: each site is down while any of its critical monitors is down
(``sla.loading.site_timelines``); the client is down while any of its sites is down outside
that site's maintenance (when the plan excludes maintenance), so overlapping outages of
several sites are counted once; its excluded time is when every site is in maintenance.

The assessment is made by the step of the client's plan history that judges the period
(``sla.plan_history``), over that plan's *window* (a month or a quarter) holding the period: a
quarterly plan asked about October is judged on Q4, and says whether the window is complete or
still running (then the figures so far are provisional). A past window keeps the plan it had
when the client later changes plans.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Min
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from monitoring.models import Monitor, MonitorState
from sitecare.lib.intervals import Interval, clip, intersect, merge, subtract
from sites.models import Site
from sla.availability import Availability, availability, availability_by_period
from sla.budget import ErrorBudget, error_budget
from sla.calendar import Calendar, wall_clock_moment
from sla.loading import maintenance_by_site, site_timelines
from sla.models import CarePlan, ClientPlan, UnknownTime
from sla.periods import Period, PeriodError
from sla.plan_history import Judgement, plan_history, reporting_zone
from sla.response import IncidentTimes, incident_times, incidents_opened
from sla.terms import HUNDRED, credit_percent
from sla.timelines import StateSpan, combine
from sla.verdicts import Verdict, owed_percent, verdict
from tenancy.models import Client

_DOWN = MonitorState.DOWN.value


class BreachKind(models.TextChoices):
    AVAILABILITY = "availability", _("Availability")
    RESPONSE = "response", _("Response time")
    RESOLUTION = "resolution", _("Resolution time")


@dataclass(frozen=True)
class ClientTimeline:
    """A client's combined timeline over a span, and what built it."""

    timeline: list[StateSpan]
    excluded: list[Interval]
    sites: dict[int, tuple[Site, list[StateSpan], list[Interval]]]


@dataclass(frozen=True)
class OutageCause:
    """One counted outage of the client, with the sites that were down and their incidents."""

    start: datetime
    end: datetime
    counted: timedelta
    sites: tuple[str, ...]
    incident_ids: tuple[int, ...]


@dataclass(frozen=True)
class Breach:
    """A missed target: availability (exact percentages) or an incident's response or
    resolution (calendar time against the priority's target)."""

    kind: BreachKind
    target_percent: Decimal | None = None
    actual_percent: Fraction | None = None
    target_time: timedelta | None = None
    actual_time: timedelta | None = None
    incident_id: int | None = None
    priority: str = ""


@dataclass(frozen=True)
class Credit:
    percent: Decimal
    fee: Decimal  # the window's fee: the monthly fee × months in the window
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class WindowAssessment:
    period: Period
    figures: Availability
    complete: bool
    target: Decimal
    budget: ErrorBudget
    incidents: tuple[IncidentTimes, ...]
    breaches: tuple[Breach, ...]
    credit: Credit  # owed: the final credit of a closed window, the certain part of a running one
    causes: tuple[OutageCause, ...]
    verdict: Verdict = Verdict.UNKNOWN
    # A running window: what would be owed if it ended now (provisional); None once closed.
    credit_if_ended_now: Credit | None = None

    @property
    def met(self) -> bool | None:
        """True once met, False once missed (closed, or certain while running), else None."""
        return {Verdict.MET: True, Verdict.MISSED: False}.get(self.verdict)


@dataclass(frozen=True)
class MonthVerdict:
    """One month of a quarter asked of a plan measured by the month, judged on its own."""

    period: Period
    plan: CarePlan | None
    window: WindowAssessment | None  # None: no plan judges this month


@dataclass(frozen=True)
class ClientSla:
    client: Client
    plan: CarePlan | None  # the plan that judged the window; None: the period has no plan
    assignment: ClientPlan | None  # the step of the client's history that judged it
    period: Period
    figures: Availability
    sites: tuple[tuple[Site, Availability], ...]
    # None without a plan, and for a quarter whose months are judged one by one (``months``)
    window: WindowAssessment | None
    upcoming: ClientPlan | None = None  # the next step with a plan, dated after the window
    # A quarter asked of a client whose plan is measured by the month: the quarter has no
    # verdict, budget or credit of its own; each month begun has its own, here.
    months: tuple[MonthVerdict, ...] = ()


def plan_calendar(plan: CarePlan | None) -> Calendar:
    return plan.calendar() if plan is not None else Calendar(time_zone=settings.TIME_ZONE)


def unknown_policy(plan: CarePlan | None) -> str:
    """How the plan counts unknown time; without a plan it is left out."""
    return plan.unknown_time if plan is not None else UnknownTime.EXCLUDED.value


def load_client(
    client: Client, start: datetime, end: datetime, *, exclude_maintenance: bool, now: datetime
) -> ClientTimeline:
    """The client's combined timeline over ``[start, end)`` (see the module docstring).

    1. The sites with a monitor that counts for the SLA, each with its combined timeline and
       its maintenance; the others say nothing about the client.
    2. The client's timeline: its sites' timelines, each without its maintenance when the
       plan excludes it, combined.
    3. Its excluded time: when every such site is in maintenance or has no such monitor yet,
       but not before the first one existed (that time is not monitored yet, not excluded).
    """
    sites = list(Site.objects.filter(client=client).order_by("name", "pk"))
    monitors = list(
        Monitor.objects.filter(site__client=client, critical=True).only(
            "pk", "site_id", "created_at", "state", "kind", "first_ping_at"
        )
    )
    by_site = site_timelines(monitors, start, end, now=now)
    watched_from: dict[int, datetime] = {}
    for monitor in monitors:
        first = watched_from.get(monitor.site_id)
        watched_from[monitor.site_id] = min(first or monitor.created_at, monitor.created_at)
    maintenance = maintenance_by_site(sites, start, end)
    parts: list[list[StateSpan]] = []
    windows: list[list[Interval]] = []
    found: dict[int, tuple[Site, list[StateSpan], list[Interval]]] = {}
    for site in sites:
        if site.pk not in by_site:
            continue  # no critical monitor: nothing known about it
        timeline, site_windows = by_site[site.pk], maintenance.get(site.pk, [])
        found[site.pk] = (site, timeline, site_windows)
        parts.append(_cut(timeline, site_windows) if exclude_maintenance else timeline)
        windows.append(merge([*site_windows, *_before(start, end, watched_from[site.pk])]))
    excluded: list[Interval] = []
    if exclude_maintenance and windows:
        excluded = windows[0]
        for other in windows[1:]:
            excluded = intersect(excluded, other)
        excluded = subtract(excluded, _before(start, end, min(watched_from.values())))
    return ClientTimeline(combine(parts), excluded, found)


def _before(start: datetime, end: datetime, moment: datetime) -> list[Interval]:
    """The part of ``[start, end)`` before ``moment``, as a span list."""
    return clip([(start, moment)], start, end)


def _cut(timeline: list[StateSpan], spans: list[Interval]) -> list[StateSpan]:
    """The timeline without the given spans (they become gaps)."""
    if not spans:
        return timeline
    result: list[StateSpan] = []
    for seg_start, seg_end, state in timeline:
        for piece_start, piece_end in subtract([(seg_start, seg_end)], spans):
            result.append((piece_start, piece_end, state))
    return result


def client_sla(
    client: Client, period: Period, *, now: datetime, judgement: Judgement | None = None
) -> ClientSla:
    """The client's figures for ``period`` and the assessment of the plan window holding it.

    1. The step that judges the period (``sla.plan_history``; ``judgement`` when the caller
       has it already), and its window; without a plan, the period alone, around the clock.
    2. The period is read in the judging plan's zone (the installation's without one); a
       period that has not begun is refused (``PeriodError``): it has no figures, only time
       to come, and nothing may be said of it yet.
    3. The figures of the period, per site, and the window's assessment.
    """
    if judgement is None:
        judgement = plan_history(client).judge(period)
    assignment, plan = judgement.assignment, judgement.plan
    period = replace(period, time_zone=reporting_zone(plan))
    if period.start > now:
        raise PeriodError(
            gettext("period: %(period)s has not begun yet (it begins on %(day)s)")
            % {
                "period": period.label,
                "day": f"{period.start.astimezone(ZoneInfo(period.time_zone)):%Y-%m-%d}",
            }
        )
    window = judgement.window if plan is not None else period
    start, end = min(window.start, period.start), max(window.end, period.end)
    exclude = plan.exclude_maintenance if plan is not None else True
    loaded = load_client(client, start, end, exclude_maintenance=exclude, now=now)
    calendar, policy = plan_calendar(plan), unknown_policy(plan)
    figures = availability(
        loaded.timeline,
        calendar,
        period.start,
        period.end,
        maintenance=loaded.excluded,
        known_until=now,
        unknown_time=policy,
    )
    sites = tuple(
        (
            site,
            availability(
                timeline,
                calendar,
                period.start,
                period.end,
                maintenance=windows,
                exclude_maintenance=exclude,
                known_until=now,
                unknown_time=policy,
            ),
        )
        for site, timeline, windows in loaded.sites.values()
    )
    months = _months_judged_alone(client, period, judgement, now=now)
    assessment = None
    if assignment is not None and not months:
        assessment = assess(assignment, window, loaded, calendar, now=now)
    return ClientSla(
        client, plan, assignment, period, figures, sites, assessment, judgement.upcoming, months
    )


def _months_judged_alone(
    client: Client, period: Period, judgement: Judgement, *, now: datetime
) -> tuple[MonthVerdict, ...]:
    """For a quarter that no quarterly plan judges, each begun month under the step that
    judges it (``sla.plan_history``): a monthly plan's verdict, budget and credit are a
    month's, so the quarter gets none of its own rather than its first month's. Empty for a
    month, for a quarter a quarterly plan judges, and when no month has a plan."""
    if period.months != 3 or (judgement.plan is not None and judgement.window.months == 3):
        return ()
    history = plan_history(client)
    found = []
    for month in period.months_within():
        month_judgement = history.judge(month)
        if month_judgement.window.start > now:
            break
        month_sla = client_sla(client, month_judgement.window, now=now, judgement=month_judgement)
        found.append(MonthVerdict(month_sla.period, month_sla.plan, month_sla.window))
    if all(month.window is None for month in found):
        return ()
    return tuple(found)


def assess(
    assignment: ClientPlan,
    window: Period,
    loaded: ClientTimeline,
    calendar: Calendar,
    *,
    now: datetime,
) -> WindowAssessment:
    """Breaches, error budget and credit of one plan window.

    1. Availability over the window against the target, counting unknown time as the plan
       says; the budget at ``now``; the verdict (``sla.verdicts``).
    2. Response and resolution times of the incidents opened in the window; an availability
       breach only once the window is missed (closed below target, or missed for certain).
    3. The credit owed (final, or while running the part already certain), what would be
       owed if a running window ended now, and the outages behind it.
    """
    plan, monthly_fee = assignment.plan, assignment.fee
    if plan is None or monthly_fee is None:
        raise ValueError("a step without a plan judges no window")
    figures = availability(
        loaded.timeline,
        calendar,
        window.start,
        window.end,
        maintenance=loaded.excluded,
        known_until=now,
        unknown_time=plan.unknown_time,
    )
    complete = now >= window.end
    judged = verdict(figures, plan.availability_target, complete=complete)
    budget = error_budget(
        loaded.timeline,
        calendar,
        window.start,
        window.end,
        target=plan.availability_target,
        excluded=loaded.excluded,
        now=now,
        day_marks=_day_marks(window),
        unknown_time=plan.unknown_time,
    )
    times = tuple(
        incident_times(incidents_opened(assignment.client, window.start, window.end), plan, now=now)
    )
    breaches: list[Breach] = []
    percent = figures.percent
    if judged == Verdict.MISSED and percent is not None:
        breaches.append(
            Breach(
                BreachKind.AVAILABILITY,
                target_percent=plan.availability_target,
                actual_percent=percent,
            )
        )
    for timer in times:
        if timer.response_missed:
            breaches.append(
                _timer_breach(BreachKind.RESPONSE, timer, timer.response, timer.response_target)
            )
        if timer.resolution_missed:
            breaches.append(
                _timer_breach(
                    BreachKind.RESOLUTION, timer, timer.resolution, timer.resolution_target
                )
            )
    fee = monthly_fee * window.months
    return WindowAssessment(
        period=window,
        figures=figures,
        complete=complete,
        target=plan.availability_target,
        budget=budget,
        incidents=times,
        breaches=tuple(breaches),
        credit=_credit(owed_percent(plan.credits, figures, complete=complete), fee, plan),
        causes=tuple(_causes(figures, loaded, window, now)),
        verdict=judged,
        credit_if_ended_now=None
        if complete
        else _credit(credit_percent(plan.credits, percent), fee, plan),
    )


def _credit(owed: Decimal, fee: Decimal, plan: CarePlan) -> Credit:
    amount = (fee * owed / HUNDRED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Credit(owed, fee, amount, plan.currency)


def _timer_breach(
    kind: BreachKind, timer: IncidentTimes, actual: timedelta, target: timedelta | None
) -> Breach:
    return Breach(
        kind,
        target_time=target,
        actual_time=actual,
        incident_id=timer.incident_id,
        priority=str(timer.priority.value),
    )


def _causes(
    figures: Availability, loaded: ClientTimeline, window: Period, now: datetime
) -> list[OutageCause]:
    """Each counted outage with the sites down during it and their incidents."""
    if not figures.outages:
        return []
    incidents = list(
        Incident.objects.filter(
            monitor__site_id__in=list(loaded.sites),
            monitor__critical=True,
            opened_at__lt=window.end,
        )
        .filter(models.Q(resolved_at__isnull=True) | models.Q(resolved_at__gt=window.start))
        .values_list("pk", "monitor__site_id", "opened_at", "resolved_at")
    )
    causes = []
    for outage in figures.outages:
        span = [(outage.start, outage.end)]
        sites = tuple(
            site.name
            for site, timeline, _windows in loaded.sites.values()
            if intersect(span, merge((s, e) for s, e, state in timeline if state == _DOWN))
        )
        ids = tuple(
            pk
            for pk, _site, opened, resolved in incidents
            if opened < outage.end and (resolved or now) > outage.start
        )
        causes.append(OutageCause(outage.start, outage.end, outage.counted, sites, ids))
    return causes


def first_watched(client: Client) -> datetime | None:
    """When the client's first monitor that counts for the SLA was created (None: never)."""
    found: datetime | None = Monitor.objects.filter(site__client=client, critical=True).aggregate(
        first=Min("created_at")
    )["first"]
    return found


def monthly_history(
    client: Client, plan: CarePlan | None, last: Period, *, months: int, now: datetime
) -> list[tuple[Period, Availability]]:
    """Availability of each of the ``months`` months up to ``last``, oldest first, leaving
    out the months that ended before the client was watched at all (before its first monitor
    counting for the SLA): they would only say "nothing known" of a client that was not
    there. ``last`` itself is always in."""
    periods = [last]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    since = first_watched(client)
    periods = [p for p in periods[:-1] if since is not None and p.end > since] + [last]
    exclude = plan.exclude_maintenance if plan is not None else True
    loaded = load_client(client, periods[0].start, last.end, exclude_maintenance=exclude, now=now)
    figures = availability_by_period(
        loaded.timeline,
        plan_calendar(plan),
        [(p.start, p.end) for p in periods],
        maintenance=loaded.excluded,
        known_until=now,
        unknown_time=unknown_policy(plan),
    )
    return list(zip(periods, figures, strict=True))


def _day_marks(window: Period) -> list[datetime]:
    """Local midnights within the window (burn chart points)."""
    zone = ZoneInfo(window.time_zone)
    marks = []
    day = window.start.astimezone(zone).date() + timedelta(days=1)
    while (mark := _local_day_start(day, window.time_zone)) < window.end:
        marks.append(mark)
        day += timedelta(days=1)
    return marks


def _local_day_start(day: date, time_zone: str) -> datetime:
    return wall_clock_moment(datetime.combine(day, time(0)), ZoneInfo(time_zone))
