"""The demo's admin toggle, mounted under ``demo/``."""

from django.urls import URLPattern, path

from core import views

app_name = "core"

urlpatterns: list[URLPattern] = [
    path("", views.demo_toggle, name="demo"),
]
