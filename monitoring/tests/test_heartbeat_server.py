"""Settings for the heartbeat durability test's server: the project's, with the ping URLs mounted.

Used as ``DJANGO_SETTINGS_MODULE`` by ``test_heartbeat_durability`` (holds no tests), so the
test does not depend on how ``sitecare/urls.py`` mounts the endpoint. The module is its own
URLconf too.
"""

from typing import Any

from django.urls import include, path

from sitecare.settings import *  # noqa: F403

ROOT_URLCONF = "monitoring.tests.test_heartbeat_server"


def __getattr__(name: str) -> Any:
    # Built on first use: the views import models, which cannot load while settings do.
    if name == "urlpatterns":
        return [path("ping/", include("monitoring.urls"))]
    raise AttributeError(name)
