"""Routes of public status pages: under ``/status/`` on sitecare's own host, and at the root
of a page's custom domain (served by ``front.middleware.StatusDomainMiddleware``).

The paths must match ``incidents.statuspage.Links``, which builds the links to them.
"""

from django.urls import URLPattern, path

from front.views import status_public as views

app_name = "status"

# Mounted at /status/ by sitecare/urls.py: the page is found by its slug.
urlpatterns: list[URLPattern] = [
    path("<slug:slug>/", views.page_html, name="page"),
    path("<slug:slug>.json", views.page_json, name="json"),
    path("<slug:slug>/style.css", views.page_css, name="css"),
    path("<slug:slug>/badge/<int:component_id>.svg", views.badge_svg, name="badge"),
    path("<slug:slug>/incidents.atom", views.page_atom, name="atom"),
    path("<slug:slug>/maintenance.ics", views.page_ical, name="ical"),
    path("<slug:slug>/subscribe/", views.subscribe, name="subscribe"),
    path("<slug:slug>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("<slug:slug>/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

# On a custom domain the middleware has found the page by the host name already.
domain_patterns: list[URLPattern] = [
    path("", views.page_html),
    path("status.json", views.page_json),
    path("style.css", views.page_css),
    path("badge/<int:component_id>.svg", views.badge_svg),
    path("incidents.atom", views.page_atom),
    path("maintenance.ics", views.page_ical),
    path("subscribe/", views.subscribe),
    path("confirm/<str:token>/", views.confirm),
    path("unsubscribe/<str:token>/", views.unsubscribe),
]
