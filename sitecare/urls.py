from django.contrib import admin
from django.urls import include, path

from front.views.account import admin_password_change
from front.views.signin import admin_login

# The admin modules are registered here, not at app loading (see INSTALLED_APPS): only what
# serves or checks URLs pays for importing them.
admin.autodiscover()

urlpatterns = [
    # Before the admin's own routes: its login page would bypass throttling and two-factor,
    # and its password change would check the current password without throttling.
    path("admin/login/", admin_login),
    path("admin/password_change/", admin_password_change),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("demo/", include("core.urls")),
    path("ping/", include("monitoring.urls")),
    path("status/", include("front.status_urls")),
    path("", include("front.urls")),
]
