"""How a pause or resume reads on a page, in the reader's language: who did it and by which
path (the agency's token names and staff never shown to a client's users), and what paused
time means for the figures under the client's plan."""

from __future__ import annotations

from django.utils.translation import gettext as _

from monitoring.models import Monitor, PauseAction, PauseEvent, PauseVia
from sla.models import CarePlan, UnknownTime


def pause_line(pause: PauseEvent, *, agency: bool) -> str:
    """ "Paused through the API (token "deploy", engineer)", or for a client's user "Paused
    by the agency". Impersonal in Polish ("Wstrzymano…"), whoever did it."""
    paused = pause.action == PauseAction.PAUSED
    if not agency:
        return _("Paused by the agency") if paused else _("Resumed by the agency")
    user = pause.user.get_username() if pause.user is not None else ""
    via = PauseVia(pause.via)
    if via == PauseVia.API:
        token = pause.token.name if pause.token is not None else ""
        who = (
            _("token “%(token)s”, %(user)s") % {"token": token, "user": user}
            if token and user
            else _("token “%(token)s”") % {"token": token}
            if token
            # The token is gone (revoked): who did it as it was recorded then.
            else pause.actor or user
        )
        text = (
            _("Paused through the API (%(who)s)")
            if paused
            else _("Resumed through the API (%(who)s)")
        )
        return text % {"who": who}
    if via == PauseVia.CONFIG:
        text = (
            _("Paused by the configuration file %(file)s")
            if paused
            else _("Resumed by the configuration file %(file)s")
        )
        return text % {"file": pause.actor}
    if via == PauseVia.SYSTEM:
        return _("Paused by sitecare") if paused else _("Resumed by sitecare")
    who = user or pause.actor
    if via == PauseVia.ADMIN:
        text = (
            _("Paused in the admin by %(user)s")
            if paused
            else _("Resumed in the admin by %(user)s")
        )
    else:
        text = _("Paused by %(user)s") if paused else _("Resumed by %(user)s")
    return text % {"user": who}


def paused_sla_note(plan: CarePlan | None) -> str:
    """How the SLA counts a critical monitor's paused time under the plan: as unknown time,
    and only where no other monitor of its site is checked (a paused one yields to them)."""
    if plan is None or plan.unknown_time == UnknownTime.EXCLUDED:
        return _("The SLA leaves paused time out.")
    if plan.unknown_time == UnknownTime.UP:
        text = _(
            "The plan %(plan)s counts paused time as up where no other monitor of the site "
            "is checked."
        )
    else:
        text = _(
            "The plan %(plan)s counts paused time as down where no other monitor of the site "
            "is checked: it uses the error budget."
        )
    return text % {"plan": plan.name}


def paused_time_note(monitor: Monitor, plan: CarePlan | None) -> str:
    """What the time a monitor is paused counts as: left out of its uptime; for the SLA, as
    the client's current plan says (``paused_sla_note``), or nothing for a warning monitor."""
    checked = _("Not checked while paused: its uptime leaves the time out.")
    if not monitor.critical:
        warning_only = _("This monitor does not count for the SLA.")
        return f"{checked} {warning_only}"
    return f"{checked} {paused_sla_note(plan)}"
