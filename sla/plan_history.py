"""A client's care-plan history, and which of its steps judges a window: the one place that
decides which plan a client had (everything else asks here).

A client's plan is a history of steps (``ClientPlan``): from ``starts_on`` (empty: since
always) the client has ``plan`` (empty: no plan). A step is *in force* on a window when it
starts before the window ends, so on at least one of its days (``in_force``). Everything is
counted in calendar days, so the rules do not depend on a time zone; the window judged is then
placed in the judging plan's zone (without a plan, the installation's).

Which step judges a month M, whose quarter is Q:

1. The latest step in force on M: if its plan is measured by the month, it judges M.
2. Else the latest step in force on Q: if its plan is measured by the quarter, it judges Q
   (M is part of that quarter's verdict).
3. Else, if M's latest step has a quarterly plan, Q's latest step (dated later in Q) judges Q
   as a whole: a monthly plan that replaced a quarterly one during the quarter judges the
   quarter, and a step without a plan leaves it without one.
4. Else M has no plan (no step yet, or a step without a plan).

A change dated inside a window therefore judges that whole window. A quarter asked for is
judged by rule 2 when its latest step has a quarterly plan, else as its first month.

The client's *current* step judges the month holding ``now`` (read in the zone of the step in
force now; the installation's without a plan); steps dated after it are *scheduled*.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from sla.models import CarePlan, ClientPlan
from sla.periods import Period, month_of
from tenancy.models import Client


def reporting_zone(plan: CarePlan | None) -> str:
    """The zone a plan's windows are read in: its own, else the installation's."""
    return plan.time_zone if plan is not None else str(settings.TIME_ZONE)


def end_day(period: Period) -> date:
    """The first day after the period."""
    following = period.following()
    return date(following.year, following.first_month, 1)


def in_force(step: ClientPlan, window: Period) -> bool:
    """Whether the step is in force on some day of the window (it starts before its end)."""
    return step.starts_on is None or step.starts_on < end_day(window)


@dataclass(frozen=True)
class Judgement:
    """The step that judges a period, the window it judges, and the next step with a plan."""

    step: ClientPlan | None  # the deciding step (it may have no plan); None: no step yet
    window: Period  # the window judged; without a plan, the period asked for
    upcoming: ClientPlan | None  # the first step with a plan dated after the window

    @property
    def plan(self) -> CarePlan | None:
        return None if self.step is None else self.step.plan

    @property
    def assignment(self) -> ClientPlan | None:
        """The judging step when it has a plan (None: the window has no plan)."""
        return self.step if self.plan is not None else None


def _order(step: ClientPlan) -> tuple[bool, date]:
    return (step.starts_on is not None, step.starts_on or date.min)


class PlanHistory:
    """A client's steps, oldest first (the one since always leads)."""

    def __init__(self, steps: Iterable[ClientPlan]) -> None:
        self.steps: tuple[ClientPlan, ...] = tuple(sorted(steps, key=_order))

    def latest_in_force(self, window: Period) -> ClientPlan | None:
        """The latest-dated step in force on some day of the window."""
        for step in reversed(self.steps):
            if in_force(step, window):
                return step
        return None

    def judge(self, period: Period) -> Judgement:
        """The step that judges ``period`` and its window (rules in the module docstring)."""
        if period.months == 3:
            latest = self.latest_in_force(period)
            if _measured_by(latest, 3):
                return self._judgement(latest, period, period)
            step, window = self._judge_month(period.months_within()[0])
        else:
            step, window = self._judge_month(period)
        return self._judgement(step, window, period)

    def _judge_month(self, month: Period) -> tuple[ClientPlan | None, Period]:
        """Rules 1–4 for one month: the deciding step and the window it judges."""
        of_month = self.latest_in_force(month)
        if _measured_by(of_month, 1):
            return of_month, month
        quarter = month.quarter()
        of_quarter = self.latest_in_force(quarter)
        if _measured_by(of_quarter, 3) or _measured_by(of_month, 3):
            return of_quarter, quarter
        return of_month, month

    def _judgement(self, step: ClientPlan | None, window: Period, asked: Period) -> Judgement:
        plan = None if step is None else step.plan
        if plan is None:
            window = asked  # no plan: the period asked for, around the clock
        window = replace(window, time_zone=reporting_zone(plan))
        last = end_day(window)
        upcoming = next(
            (
                s
                for s in self.steps
                if s.plan_id is not None and s.starts_on and s.starts_on >= last
            ),
            None,
        )
        return Judgement(step, window, upcoming)

    def current(self, now: datetime) -> Judgement:
        """The judgement of the month holding ``now``, read in the zone of the step in force."""
        zone = reporting_zone(None)
        for step in reversed(self.steps):
            step_zone = reporting_zone(step.plan)
            if (
                step.starts_on is None
                or step.starts_on <= now.astimezone(ZoneInfo(step_zone)).date()
            ):
                zone = step_zone
                break
        judgement = self.judge(month_of(now, zone))
        for _zone_hops in range(3):
            if judgement.window.start <= now:
                break
            # The step judging that month reads its windows in another zone, where the month
            # has not begun (a plan in UTC from the 1st, at 00:30 of the 1st in Warsaw): the
            # month holding now there is the current one.
            judgement = self.judge(month_of(now, judgement.window.time_zone))
        return judgement

    def is_scheduled(self, step: ClientPlan, current: Judgement) -> bool:
        """Whether the step is dated after the current one (all are, without a current one)."""
        if current.step is None:
            return True
        if step.starts_on is None:
            return False
        return current.step.starts_on is None or step.starts_on > current.step.starts_on


def _measured_by(step: ClientPlan | None, months: int) -> bool:
    return step is not None and step.plan is not None and step.plan.window_months() == months


def plan_history(client: Client) -> PlanHistory:
    """The client's steps, with their plans, in one query."""
    return PlanHistory(ClientPlan.objects.select_related("plan").filter(client=client))


def plan_histories(
    client_ids: Sequence[int], *, with_clients: bool = False
) -> dict[int, PlanHistory]:
    """Each client's history (empty for a client without steps), in one query."""
    related = ("plan", "client__organization") if with_clients else ("plan",)
    found: dict[int, list[ClientPlan]] = {pk: [] for pk in client_ids}
    for step in ClientPlan.objects.select_related(*related).filter(client_id__in=client_ids):
        found[step.client_id].append(step)
    return {pk: PlanHistory(steps) for pk, steps in found.items()}


def assignment_for(client: Client, period: Period) -> ClientPlan | None:
    """The step, with a plan, that judges ``period``; None when the period has no plan."""
    return plan_history(client).judge(period).assignment
