"""The web UI's pages. Every page that takes an id loads it through the user's scope."""

from django.urls import URLPattern, path

from front.views import (
    account,
    channels,
    escalation,
    incident_actions,
    incidents,
    maintenance,
    monitors,
    oncall,
    overview,
    status_admin,
)

app_name = "front"

urlpatterns: list[URLPattern] = [
    path("", overview.dashboard, name="dashboard"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("language/", account.set_language, name="set_language"),
    path("clients/<int:client_id>/", overview.client_detail, name="client"),
    path("sites/<int:site_id>/", overview.site_detail, name="site"),
    path("monitors/<int:monitor_id>/", monitors.monitor_detail, name="monitor"),
    path(
        "monitors/content-baseline/accept/",
        monitors.monitor_accept_content,
        name="monitor_accept_content",
    ),
    path("clients/<int:client_id>/maintenance/", maintenance.window_list, name="maintenance"),
    path("maintenance/<int:window_id>/", maintenance.window_detail, name="maintenance_window"),
    path("incidents/", incidents.incident_list, name="incidents"),
    path("incidents/<int:incident_id>/", incidents.incident_detail, name="incident"),
    path(
        "incidents/acknowledge/",
        incident_actions.incident_acknowledge,
        name="incident_acknowledge",
    ),
    path("incidents/resolve/", incident_actions.incident_resolve, name="incident_resolve"),
    path("incidents/notes/", incident_actions.incident_note, name="incident_note"),
    path("incidents/details/", incident_actions.incident_details, name="incident_details"),
    path("ack/<str:token>/", incident_actions.ack_link, name="incident_ack_link"),
    path("escalation/", escalation.policy_list, name="escalation"),
    path("escalation/new/", escalation.policy_new, name="escalation_new"),
    path("escalation/delete/", escalation.policy_delete, name="escalation_delete"),
    path("escalation/<int:policy_id>/", escalation.policy_edit, name="escalation_policy"),
    path(
        "incidents/<int:incident_id>/public-updates/",
        status_admin.incident_updates,
        name="incident_public_updates",
    ),
    path("clients/<int:client_id>/status-pages/", status_admin.page_list, name="statuspages"),
    path("status-pages/<int:page_id>/", status_admin.page_detail, name="statuspage"),
    path("channels/", channels.channel_list, name="channels"),
    path("channels/<int:channel_id>/", channels.channel_detail, name="channel"),
    path("oncall/", oncall.schedule_list, name="oncall"),
    path("oncall/new/", oncall.schedule_new, name="oncall_new"),
    path("oncall/delete/", oncall.schedule_delete, name="oncall_delete"),
    path("oncall/overrides/delete/", oncall.override_delete, name="oncall_override_delete"),
    path("oncall/<int:schedule_id>/", oncall.schedule_detail, name="oncall_schedule"),
    path("oncall/<int:schedule_id>/edit/", oncall.schedule_edit, name="oncall_edit"),
    path("oncall/ical/<str:token>.ics", oncall.ical_feed, name="oncall_ical"),
    path("profile/", account.profile, name="profile"),
    path("profile/language/", account.profile_language, name="profile_language"),
    path("profile/tokens/", account.token_create, name="token_create"),
    path("profile/channels/", account.personal_channel_create, name="personal_channel_create"),
    path("profile/channels/act/", account.personal_channel_act, name="personal_channel_act"),
    path("profile/tokens/revoke/", account.token_revoke, name="token_revoke"),
]
