"""Escalation at work: page the steps of an incident's policy until someone acknowledges.

When an incident opens (``incidents.logic.open_incident``), :func:`start_escalation` picks the
policy (site's, else client's, else the agency's default), stores a snapshot of its steps in an
``EscalationRun`` and pages step 1 in the same transaction — outbox rows, delivered by the
alert sender like every alert. The sender's loop calls :func:`handle_one_escalations`, which
pages the next step of every run whose wait is over and whose incident is still open and
unacknowledged; after the last step it starts again from step 1 ``repeat`` more times, then
stops. Acknowledging or resolving stops the run (:func:`stop_escalation`). A flapping incident
reopened after its resolution (silently, see ``incidents.flapping``) is not paged again: its
run stopped at the first resolution, which the paged people were told about.

Who a step reaches, worked out at the moment it is paged:

- its channels (agency-wide ones, the incident's client's or site's own; never another's);
- its people, through their personal channels (only active owners and engineers);
- whoever is on call in its schedules at that moment, through their personal channels.

A step that reaches nobody (nobody on call, nobody with a personal channel) says so in the
timeline and the next step is paged at once instead of after the wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation

from incidents.ack import ack_url
from incidents.models import (
    Channel,
    EscalationPolicy,
    EscalationRun,
    EscalationStop,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
    OnCallSchedule,
    PolicyAssignment,
)
from incidents.models.oncall import agency_people
from incidents.oncall import on_call_in
from monitoring.failures import FailureClass
from monitoring.models import Monitor
from sitecare.lib import messages
from sitecare.lib.messages import deferred as _

DUE_BATCH = 50


# --- which policy --------------------------------------------------------------------------


def policy_for(monitor: Monitor) -> EscalationPolicy | None:
    """The policy of the monitor, else of its site, else of its client, else the agency's
    default."""
    site = monitor.site
    assignments = PolicyAssignment.objects.filter(
        Q(monitor_id=monitor.pk) | Q(site_id=site.pk) | Q(client_id=site.client_id)
    ).select_related("policy")
    # At most one of each (unique constraints); the monitor's wins, then the site's.
    for assignment in sorted(assignments, key=lambda a: (a.monitor_id is None, a.site_id is None)):
        return assignment.policy
    return EscalationPolicy.objects.filter(
        organization_id=site.client.organization_id, is_default=True
    ).first()


def snapshot(policy: EscalationPolicy) -> list[dict[str, Any]]:
    """The policy's steps as plain data, in order (what a run follows)."""
    steps = policy.steps.order_by("position").prefetch_related("channels", "users", "schedules")
    return [
        {
            "wait_minutes": step.wait_minutes,
            "channels": sorted(c.pk for c in step.channels.all()),
            "users": sorted(u.pk for u in step.users.all()),
            "schedules": sorted(s.pk for s in step.schedules.all()),
        }
        for step in steps
    ]


# --- who a step reaches ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One channel to page, and the person behind it (personal channels) if any."""

    channel: Channel
    user: User | None = None
    schedule: str = ""  # the schedule the person is on call in, when reached through one


@dataclass
class Reach:
    """Everyone a step reaches, and why someone it names could not be reached."""

    recipients: list[Recipient] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def add(self, recipient: Recipient) -> None:
        if all(r.channel.pk != recipient.channel.pk for r in self.recipients):
            self.recipients.append(recipient)


def _personal_channels(user_ids: list[int], organization_id: int) -> dict[int, list[Channel]]:
    found: dict[int, list[Channel]] = {}
    channels = Channel.objects.filter(
        user_id__in=user_ids, organization_id=organization_id, enabled=True
    ).order_by("name", "pk")
    for channel in channels:
        assert channel.user_id is not None
        found.setdefault(channel.user_id, []).append(channel)
    return found


def reach(step: dict[str, Any], incident: Incident, at: datetime) -> Reach:
    """Who ``step`` reaches at ``at`` for ``incident``, and the gaps, in the agency's words."""
    client, site_id = incident.monitor.site.client, incident.monitor.site_id
    organization_id = client.organization_id
    result = Reach()
    for channel in Channel.objects.filter(
        pk__in=step.get("channels", []),
        organization_id=organization_id,
        enabled=True,
        user__isnull=True,
    ).filter(
        Q(client__isnull=True) | Q(client_id=client.pk, site__isnull=True) | Q(site_id=site_id)
    ):
        result.add(Recipient(channel))
    people = {u.pk: u for u in agency_people(organization_id).select_related("membership")}
    wanted: list[tuple[User, str]] = [
        (people[pk], "") for pk in step.get("users", []) if pk in people
    ]
    schedules = OnCallSchedule.objects.filter(
        pk__in=step.get("schedules", []), organization_id=organization_id
    ).order_by("name", "pk")
    for schedule in schedules:
        person = on_call_in(schedule.pk, at)
        if person is None or person.pk not in people:
            result.gaps.append(_("Nobody is on call in %(schedule)s.") % {"schedule": schedule})
        else:
            wanted.append((people[person.pk], schedule.name))
    personal = _personal_channels([user.pk for user, _s in wanted], organization_id)
    for user, schedule_name in wanted:
        channels = personal.get(user.pk, [])
        if not channels:
            result.gaps.append(
                _("%(person)s has no personal alert channel.") % {"person": user.get_username()}
            )
        for channel in channels:
            result.add(Recipient(channel, user, schedule_name))
    return result


# --- starting, advancing, stopping ---------------------------------------------------------


def start_escalation(incident: Incident, *, now: datetime) -> EscalationRun | None:
    """Start the incident's escalation and page its first step; None without a policy.

    Called in the transaction that opens the incident, so the run and the first pages are
    written with it or not at all.
    """
    policy = policy_for(incident.monitor)
    if policy is None:
        return None
    steps = snapshot(policy)
    if not steps:
        return None
    run, created = EscalationRun.objects.get_or_create(
        incident=incident,
        defaults={
            "policy": policy,
            "policy_name": policy.name,
            "repeat": policy.repeat,
            "steps": steps,
            "started_at": now,
        },
    )
    if created:
        _page_onwards(run, incident, 0, 0, now)
    return run


def restart_escalation(incident: Incident, *, now: datetime) -> bool:
    """Page the escalation again from its first step; False when there is nothing to restart.

    For a flapping incident announced down again after everyone was told it was over: the
    run stopped at that resolution, so without a restart nobody would be paged for an outage
    that is back. The pages of this round carry the incident's flap count in their keys, so
    they are new messages, not duplicates of the first ones.
    """
    run = EscalationRun.objects.filter(incident=incident).first()
    if run is None:
        return start_escalation(incident, now=now) is not None
    if run.stopped_at is None:
        return False  # still paging
    run.step_index, run.round, run.stopped_at, run.stop_reason = 0, 0, None, ""
    run.save(update_fields=["step_index", "round", "stopped_at", "stop_reason"])
    _page_onwards(run, incident, 0, 0, now)
    return True


def _following(run: EscalationRun, index: int, round_: int) -> tuple[int, int]:
    if index + 1 < len(run.steps):
        return index + 1, round_
    return 0, round_ + 1


def _page_onwards(
    run: EscalationRun, incident: Incident, index: int, round_: int, now: datetime
) -> None:
    """Page step ``index`` of round ``round_``, going on at once past steps reaching nobody.

    1. Past the last round the run is over: stop it as exhausted.
    2. Page the step; if it reached someone, wait its minutes for an acknowledgement.
    3. Otherwise take the following step now; a whole round reaching nobody ends the run
       (another round at the same moment would reach nobody either).
    """
    reached_nobody = 0
    while True:
        if round_ > run.repeat or reached_nobody >= len(run.steps):
            _stop(
                run,
                incident,
                EscalationStop.EXHAUSTED,
                now,
                reached=reached_nobody < len(run.steps),
            )
            return
        step = run.steps[index]
        if _page(run, incident, index, round_, now):
            run.step_index, run.round = index, round_
            run.next_at = now + timedelta(minutes=int(step["wait_minutes"]))
            run.save(update_fields=["step_index", "round", "next_at"])
            return
        reached_nobody += 1
        index, round_ = _following(run, index, round_)


def handle_one_escalations(now: datetime) -> int:
    """Page the next step of every run that is due; returns how many runs it moved.

    Each run is claimed by a conditional UPDATE on the values just read, so two sender loops
    never page the same step twice; the claim and the pages share one transaction.
    """
    due = (
        EscalationRun.objects.filter(stopped_at__isnull=True, next_at__lte=now)
        .order_by("next_at", "pk")
        .values_list("pk", "step_index", "round", "next_at")[:DUE_BATCH]
    )
    moved = 0
    for pk, index, round_, next_at in due:
        with transaction.atomic():
            claimed = EscalationRun.objects.filter(
                pk=pk, stopped_at__isnull=True, step_index=index, round=round_, next_at=next_at
            ).update(next_at=None)
            if claimed != 1:
                continue  # another loop took it, or it was stopped meanwhile
            run = EscalationRun.objects.select_related(
                "incident__monitor__site__client__organization"
            ).get(pk=pk)
            _advance(run, now)
            moved += 1
    return moved


def _advance(run: EscalationRun, now: datetime) -> None:
    incident = run.incident
    if incident.state != IncidentState.OPEN:
        _stop(run, incident, EscalationStop.RESOLVED, now, quiet=True)
    elif incident.acknowledged_at is not None:
        _stop(run, incident, EscalationStop.ACKNOWLEDGED, now, quiet=True)
    else:
        _page_onwards(run, incident, *_following(run, run.step_index, run.round), now)


def stop_escalation(incident: Incident, reason: EscalationStop, *, now: datetime) -> bool:
    """Stop the incident's running escalation (acknowledged or resolved); False when none ran.

    On resolution, everyone the escalation paged is told the incident is over.
    """
    runs = EscalationRun.objects.filter(incident=incident)
    # A flapping incident resolves again without new pages: its people were told already.
    told = runs.filter(stop_reason=EscalationStop.RESOLVED).exists()
    stopped = runs.filter(stopped_at__isnull=True).update(
        stopped_at=now, stop_reason=reason, next_at=None
    )
    if reason == EscalationStop.RESOLVED and not told:
        notify_paged_of_resolution(incident, now=now)
    return stopped == 1


def _stop(
    run: EscalationRun,
    incident: Incident,
    reason: EscalationStop,
    now: datetime,
    *,
    quiet: bool = False,
    reached: bool = True,
) -> None:
    run.stopped_at, run.stop_reason, run.next_at = now, reason, None
    run.save(update_fields=["stopped_at", "stop_reason", "next_at"])
    if quiet:
        return  # the acknowledgement or resolution already has its own timeline line
    with translation.override(incident.monitor.site.client.organization.language):
        if reached:
            text = _("Every step of “%(policy)s” was paged; nobody acknowledged.")
        else:
            text = _("No step of “%(policy)s” reached anyone: the escalation ends here.")
        message = text % {"policy": run.policy_name}
    IncidentEvent.objects.create(
        incident=incident,
        at=now,
        kind=EventKind.ESCALATION_ENDED,
        message=message,
        details={"reason": str(reason)},
    )


# --- paging ----------------------------------------------------------------------------------


def page_key(incident: Incident, index: int, round_: int, channel: Channel) -> str:
    where = f"r{round_ + 1}-s{index + 1}"
    if incident.flap_count:  # a restarted escalation (see restart_escalation)
        where += f"-flap{incident.flap_count}"
    return f"sitecare-incident-{incident.pk}-escalation-{where}-channel-{channel.pk}"


def _already_alerted(incident: Incident, channel: Channel) -> bool:
    """The channel got the incident's ordinary down alert (so step 1 need not repeat it)."""
    return Notification.objects.filter(
        incident=incident, channel=channel, event=EventKind.OPENED
    ).exists()


def _page(run: EscalationRun, incident: Incident, index: int, round_: int, now: datetime) -> bool:
    """Queue one step's pages and its timeline line; True when it reached anyone."""
    with translation.override(incident.monitor.site.client.organization.language):
        found = reach(run.steps[index], incident, now)
    rows = []
    for recipient in found.recipients:
        if (index, round_) == (0, 0) and _already_alerted(incident, recipient.channel):
            continue
        key = page_key(incident, index, round_, recipient.channel)
        title, body = render_page(run, incident, index, round_, recipient, key)
        rows.append(
            Notification(
                channel=recipient.channel,
                incident=incident,
                event=EventKind.ESCALATED,
                dedup_key=key,
                title=title,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    IncidentEvent.objects.create(
        incident=incident,
        at=now,
        kind=EventKind.ESCALATED,
        message=_step_message(run, incident, index, round_, found),
        details={
            "step": index + 1,
            "round": round_ + 1,
            "channels": [r.channel.pk for r in found.recipients],
            "users": sorted({r.user.pk for r in found.recipients if r.user is not None}),
            "gaps": found.gaps,
        },
    )
    return bool(found.recipients)


def _step_message(
    run: EscalationRun, incident: Incident, index: int, round_: int, found: Reach
) -> str:
    with translation.override(incident.monitor.site.client.organization.language):
        where: str = _("Step %(step)d of %(steps)d") % {"step": index + 1, "steps": len(run.steps)}
        if run.repeat:
            round_of = _("round %(round)d of %(rounds)d") % {
                "round": round_ + 1,
                "rounds": run.repeat + 1,
            }
            where = messages.joined([where, round_of], ", ")
        names = [
            f"{r.channel.name} ({r.user.get_username()})" if r.user else r.channel.name
            for r in found.recipients
        ]
        if names:
            text = _("%(where)s: paged %(names)s.") % {"where": where, "names": ", ".join(names)}
        else:
            text = _("%(where)s reached nobody; going on to the next step.") % {"where": where}
        return messages.joined([text, *found.gaps])


def _language(incident: Incident, user: User | None) -> str:
    """A person is paged in their own language; a shared channel in the agency's."""
    membership = getattr(user, "membership", None) if user is not None else None
    if membership is not None and membership.language:
        return str(membership.language)
    return str(incident.monitor.site.client.organization.language)


def render_page(
    run: EscalationRun, incident: Incident, index: int, round_: int, recipient: Recipient, key: str
) -> tuple[str, str]:
    """Title and body of a page: the outage, the step, and the one-click ack link."""
    monitor = incident.monitor
    site = monitor.site
    with translation.override(_language(incident, recipient.user)):
        local_start = timezone.localtime(incident.opened_at, ZoneInfo(site.time_zone))
        since = f"{local_start:%Y-%m-%d %H:%M:%S} ({site.time_zone})"
        names = {"site": site.name, "monitor": monitor.name, "client": site.client.name}
        title = _("[DOWN] %(site)s: %(monitor)s — please acknowledge") % names
        lines = [_("%(monitor)s on %(site)s (%(client)s) is down.") % names]
        if incident.failure_class:
            reason = FailureClass(incident.failure_class).label
            lines.append(_("Reason: %(reason)s") % {"reason": reason})
        if incident.message:
            lines.append(_("Details: %(message)s") % {"message": incident.message_text})
        lines.append(_("Down since: %(since)s") % {"since": since})
        if recipient.schedule:
            lines.append(_("You are on call in %(schedule)s.") % {"schedule": recipient.schedule})
        lines.append(
            _("Escalation “%(policy)s”, step %(step)d of %(steps)d.")
            % {"policy": run.policy_name, "step": index + 1, "steps": len(run.steps)}
        )
        if round_:
            lines.append(_("Nobody has acknowledged yet: round %(round)d.") % {"round": round_ + 1})
        link = ack_url(incident, recipient.channel)
        if link:
            lines.append(_("Acknowledge: %(url)s") % {"url": link})
        lines.append(
            _("Incident: %(link)s")
            % {"link": f"{settings.SITECARE_BASE_URL}/incidents/{incident.pk}/"}
        )
        lines.append(_("Reference: %(key)s") % {"key": key})
    return title, "\n".join(lines)


def notify_paged_of_resolution(incident: Incident, *, now: datetime) -> list[Notification]:
    """Tell every channel the escalation paged that the incident is resolved.

    Channels told "resolved" since their latest page (the ordinary recovery alert, or an
    all-clear of an earlier round of a flapping incident) are left out: no double message.
    """
    latest = (
        Notification.objects.filter(incident=incident)
        .values("channel_id", "event")
        .annotate(last=Max("pk"))
    )
    last_page = {r["channel_id"]: r["last"] for r in latest if r["event"] == EventKind.ESCALATED}
    last_told = {r["channel_id"]: r["last"] for r in latest if r["event"] == EventKind.RESOLVED}
    untold = [pk for pk, page in last_page.items() if last_told.get(pk, 0) < page]
    rows = []
    for channel in Channel.objects.filter(pk__in=untold).select_related("user__membership"):
        key = f"sitecare-incident-{incident.pk}-escalation-resolved-channel-{channel.pk}"
        if incident.flap_count:  # the all-clear of a restarted escalation is a new message
            key += f"-flap{incident.flap_count}"
        with translation.override(_language(incident, channel.user)):
            site = incident.monitor.site
            names = {"site": site.name, "monitor": incident.monitor.name}
            title = _("[UP] %(site)s: %(monitor)s") % names
            body = "\n".join(
                [
                    _("Incident #%(number)d is resolved; nothing more to do.")
                    % {"number": incident.pk},
                    _("Reference: %(key)s") % {"key": key},
                ]
            )
        rows.append(
            Notification(
                channel=channel,
                incident=incident,
                event=EventKind.RESOLVED,
                dedup_key=key,
                title=title,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return Notification.objects.bulk_create(rows, ignore_conflicts=True)
