from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("demo/", include("core.urls")),
    path("ping/", include("monitoring.urls")),
    path("status/", include("front.status_urls")),
    path("", include("front.urls")),
]
