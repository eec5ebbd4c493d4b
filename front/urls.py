"""The web UI's pages. Every page that takes an id loads it through the user's scope."""

from django.urls import URLPattern, path

from front.views import account, channels, incidents, monitors, overview

app_name = "front"

urlpatterns: list[URLPattern] = [
    path("", overview.dashboard, name="dashboard"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("language/", account.set_language, name="set_language"),
    path("clients/<int:client_id>/", overview.client_detail, name="client"),
    path("sites/<int:site_id>/", overview.site_detail, name="site"),
    path("monitors/<int:monitor_id>/", monitors.monitor_detail, name="monitor"),
    path("incidents/", incidents.incident_list, name="incidents"),
    path("incidents/<int:incident_id>/", incidents.incident_detail, name="incident"),
    path("channels/", channels.channel_list, name="channels"),
    path("profile/", account.profile, name="profile"),
    path("profile/language/", account.profile_language, name="profile_language"),
    path("profile/tokens/", account.token_create, name="token_create"),
    path("profile/tokens/revoke/", account.token_revoke, name="token_revoke"),
]
