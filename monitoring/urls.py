"""Heartbeat ping URLs, mounted at ``ping/`` by ``sitecare/urls.py``."""

from __future__ import annotations

from django.urls import path, register_converter

from monitoring import views


class TokenConverter:
    """A ping token: URL-safe base64 characters, as ``monitoring.checks.heartbeat`` makes them."""

    regex = "[A-Za-z0-9_-]{22,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TokenConverter, "ping_token")

app_name = "heartbeat"
urlpatterns = [
    path("<ping_token:token>", views.ping, name="ping"),
    path("<ping_token:token>/start", views.ping_start, name="start"),
    path("<ping_token:token>/fail", views.ping_fail, name="fail"),
    path("<ping_token:token>/<int:exit_code>", views.ping_exit_code, name="exit_code"),
]
