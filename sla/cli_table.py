"""``sitecare sla``'s table: a client's SLA figures (``sla.serialize``'s dict) as people read
them, drawn with rich. The command imports this module only to draw a table, so its help and
``--json`` do not load rich.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sla.budget import Outlook
from sla.models import MeasurementWindow, UnknownTime
from sla.report import BreachKind
from sla.serialize import (
    FiguresData,
    SlaData,
    WindowData,
    floored,
)
from sla.verdicts import Verdict

DASH = "—"


def duration(seconds: float | None) -> str:
    """Exact to the second, every unit from the largest to the smallest that is not zero:
    ``43 min 12 s``, ``1 d 0 h 5 min``, ``31 d``, ``0 s``."""
    if seconds is None:
        return DASH
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        (days, _("%(count)d d")),
        (hours, _("%(count)d h")),
        (minutes, _("%(count)d min")),
        (secs, _("%(count)d s")),
    ]
    used = [i for i, (value, _label) in enumerate(parts) if value]
    if not used:
        return _("%(count)d s") % {"count": 0}
    shown = [label % {"count": value} for value, label in parts[used[0] : used[-1] + 1]]
    return sign + " ".join(shown)


def fewer_places(value: str | None, places: int) -> str | None:
    """A figure of the API (three decimals, rounded down) to fewer decimals, rounded down."""
    return None if value is None else str(floored(Fraction(value), places))


def number(value: str) -> str:
    """A decimal of the API ("99.9", "50") in the language's number format ("99,9")."""
    return number_format(Decimal(value), len(value.partition(".")[2]))


def amount(value: str) -> str:
    """Money of the API ("1490.00") as the SLA page shows it ("1,490.00"; "1 490,00")."""
    return number_format(Decimal(value), 2, force_grouping=True)


def percent(value: str | None) -> str:
    """A percentage of the API ("99.900") in the language's format ("99.900 %", "99,900%")."""
    if value is None:
        return DASH
    places = len(value.partition(".")[2])
    return _("%(value)s %%") % {"value": number_format(Decimal(value), places)}


def local(moment: str | None, zone: ZoneInfo) -> str:
    if moment is None:
        return DASH
    return f"{datetime.fromisoformat(moment).astimezone(zone):%Y-%m-%d %H:%M:%S}"


def render(data: SlaData, *, tty: bool) -> str:
    """The SLA as people read it: a heading, the figures, then the plan window's verdict."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=tty, color_system="auto" if tty else None, width=110
    )
    zone = ZoneInfo(data["period"]["time_zone"])
    plan = data["plan"]
    heading = _("%(client)s · %(period)s (%(zone)s)") % {
        "client": data["client"]["name"],
        "period": data["period"]["label"],
        "zone": data["period"]["time_zone"],
    }
    console.print(Text(heading, style="bold"))
    if plan is None:
        console.print(Text(_("No care plan in this period: around the clock, no target.")))
    else:
        per = _("a quarter") if plan["window"] == MeasurementWindow.QUARTER else _("a month")
        terms = _("Care plan %(plan)s: %(target)s %% %(per)s") % {
            "plan": plan["name"],
            "target": number(plan["availability_target"]),
            "per": per,
        }
        console.print(Text(terms))  # the plan that judged the window, from the history
    console.print(figures_table(_("Figures"), data["figures"]))
    console.print(sites_table(data))
    if data["window"] is not None:
        window_part(console, data["window"], zone)
    if data["months"]:
        months_part(console, data)
    if data["history"]:
        history = Table(title=_("History"), title_justify="left")
        history.add_column(_("Month"))
        for name in (_("Availability"), _("Down"), _("Unknown")):
            history.add_column(name, justify="right")
        history.add_column(_("Target"))
        for month in data["history"]:
            row = month["figures"]
            judged = month["verdict"]
            history.add_row(
                month["period"]["label"],
                percent(row["availability_percent"]),
                duration(row["down_seconds"]),
                duration(row["unknown_seconds"]),
                DASH if judged is None else str(Verdict(judged).label),
            )
        console.print(history)
    return buffer.getvalue()


def figures_table(title: str, figures: FiguresData) -> Table:
    table = Table.grid(padding=(0, 2))
    table.title = title
    table.title_justify = "left"
    for label, value in (
        (_("Availability"), percent(figures["availability_percent"])),
        (_("Time in scope"), duration(figures["in_scope_seconds"])),
        (_("Up"), duration(figures["up_seconds"])),
        (_("Down"), duration(figures["down_seconds"])),
        (_("Unknown"), duration(figures["unknown_seconds"])),
        (_("Not monitored yet"), duration(figures["unmonitored_seconds"])),
        (_("Excluded (maintenance)"), duration(figures["excluded_seconds"])),
        (_("Still to come"), duration(figures["to_come_seconds"])),
        (_("Unknown time in the figure"), str(UnknownTime(figures["unknown_time"]).label)),
        (_("Outages"), str(figures["outage_count"])),
        (_("Longest outage"), duration(figures["longest_outage_seconds"])),
        (_("MTTR"), duration(figures["mttr_seconds"])),
        (_("MTBF"), duration(figures["mtbf_seconds"])),
    ):
        table.add_row(label, Text(value))
    return table


def sites_table(data: SlaData) -> Table:
    table = Table(title=_("Sites"), title_justify="left")
    table.add_column(_("Site"))
    for name in (_("Availability"), _("Down"), _("Unknown"), _("Excluded"), _("Outages")):
        table.add_column(name, justify="right")
    for site in data["sites"]:
        row = site["figures"]
        table.add_row(
            Text(site["name"]),
            percent(row["availability_percent"]),
            duration(row["down_seconds"]),
            duration(row["unknown_seconds"]),
            duration(row["excluded_seconds"]),
            str(row["outage_count"]),
        )
    return table


def months_part(console: Console, data: SlaData) -> None:
    """A quarter of a plan measured by the month: each month's own verdict and credit."""
    console.print(
        Text(
            _(
                "The plan is measured by the month: %(period)s has no verdict, error budget "
                "or credit of its own. Each month is judged on its own:"
            )
            % {"period": data["period"]["label"]},
            style="bold",
        )
    )
    table = Table(title=_("Months"), title_justify="left")
    table.add_column(_("Month"))
    table.add_column(_("Plan"))
    table.add_column(_("Availability"), justify="right")
    table.add_column(_("Target"), justify="right")
    table.add_column(_("Verdict"))
    table.add_column(_("Credit owed"), justify="right")
    for month in data["months"] or []:
        window = month["window"]
        if window is None:
            table.add_row(month["period"]["label"], _("no plan"), DASH, DASH, DASH, DASH)
            continue
        credit = window["credit"]
        table.add_row(
            month["period"]["label"],
            Text(month["plan"]["name"] if month["plan"] else DASH),
            percent(window["figures"]["availability_percent"]),
            percent(window["target"]),
            str(Verdict(window["verdict"]).label),
            f"{amount(credit['amount'])} {credit['currency']}",
        )
    console.print(table)


def window_part(console: Console, window: WindowData, zone: ZoneInfo) -> None:
    """The verdict on the plan's window: target, budget, breaches, credit and its causes."""
    figures, budget, credit = window["figures"], window["budget"], window["credit"]
    verdict = str(Verdict(window["verdict"]).label)
    state = _("complete") if window["complete"] else _("still running: figures so far")
    console.print(
        Text(
            _("Window %(window)s (%(state)s): %(actual)s against %(target)s %%: %(verdict)s")
            % {
                "window": window["period"]["label"],
                "state": state,
                "actual": percent(figures["availability_percent"]),
                "target": number(window["target"]),
                "verdict": verdict,
            },
            style="bold",
        )
    )
    grid = Table.grid(padding=(0, 2))
    grid.title, grid.title_justify = _("Error budget"), "left"
    grid.add_row(_("Allowed downtime"), duration(budget["allowed_seconds"]))
    used = _("%(time)s (%(share)s of the budget)") % {
        "time": duration(budget["consumed_seconds"]),
        "share": percent(fewer_places(budget["consumed_percent"], 1)),
    }
    grid.add_row(_("Used"), used)
    grid.add_row(_("Remaining"), duration(budget["remaining_seconds"]))
    rate = fewer_places(budget["burn_rate"], 2)
    grid.add_row(_("Burn rate"), DASH if rate is None else f"{number_format(Decimal(rate), 2)}×")
    seen = Outlook(budget["outlook"])
    if seen == Outlook.USED_UP:
        grid.add_row(_("Used up on"), local(budget["exhausted_at"], zone))
    elif seen == Outlook.RUNS_OUT:
        grid.add_row(_("At this rate runs out on"), local(budget["runs_out_at"], zone))
    elif seen == Outlook.NOTHING_COUNTED:
        grid.add_row(_("Outlook"), _("none: nothing counted"))
    elif seen == Outlook.NO_ALLOWANCE:
        grid.add_row(_("Outlook"), _("the target allows no downtime"))
    else:
        grid.add_row(_("At this rate"), _("lasts the window"))
    console.print(grid)
    if window["breaches"]:
        breaches = Table(title=_("Breaches"), title_justify="left")
        for name in (_("Kind"), _("Target"), _("Actual"), _("Incident"), _("Priority")):
            breaches.add_column(name)
        for breach in window["breaches"]:
            incident = breach["incident_id"]
            breaches.add_row(
                str(BreachKind(breach["kind"]).label),
                percent(breach["target_percent"])
                if breach["target_percent"] is not None
                else duration(breach["target_seconds"]),
                percent(breach["actual_percent"])
                if breach["actual_percent"] is not None
                else duration(breach["actual_seconds"]),
                DASH if incident is None else f"#{incident}",
                breach["priority"] or DASH,
            )
        console.print(breaches)
    owed = _("Credit owed: %(percent)s %% of %(fee)s %(currency)s = %(amount)s %(currency)s") % {
        "percent": number(credit["percent"]),
        "fee": amount(credit["fee"]),
        "amount": amount(credit["amount"]),
        "currency": credit["currency"],
    }
    if not window["complete"]:
        owed += " " + _("(only what is already certain: the window is still running)")
    console.print(Text(owed, style="bold"))
    provisional = window["credit_if_ended_now"]
    if provisional is not None and Decimal(provisional["amount"]) > Decimal(credit["amount"]):
        shown = _(
            "If the window ended now: %(percent)s %% = %(amount)s %(currency)s "
            "(provisional, not owed)"
        ) % {
            "percent": number(provisional["percent"]),
            "amount": amount(provisional["amount"]),
            "currency": provisional["currency"],
        }
        console.print(Text(shown))
    if window["causes"]:
        causes = Table(title=_("Outages behind it"), title_justify="left")
        for name in (_("Start"), _("End"), _("Counted"), _("Sites"), _("Incidents")):
            causes.add_column(name)
        for cause in window["causes"]:
            causes.add_row(
                local(cause["start"], zone),
                local(cause["end"], zone),
                duration(cause["counted_seconds"]),
                Text(", ".join(cause["sites"])),
                ", ".join(f"#{pk}" for pk in cause["incident_ids"]) or DASH,
            )
        console.print(causes)
