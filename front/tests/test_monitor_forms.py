"""Monitor forms: generated from each kind's options model, validated by parse_monitor, saved,
tested before saving, paused, resumed, cloned and deleted (agency members only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from front.tests.conftest import signed_in
from monitoring.models import CheckKind, Monitor, PauseAction, PauseEvent, PauseVia

pytestmark = pytest.mark.django_db


def test_it_renders_a_form_for_every_kind(world):
    browser = signed_in(world.owner)
    for kind in CheckKind.values:
        response = browser.get(reverse("front:monitor_new", args=[world.site_a.pk]), {"kind": kind})
        assert response.status_code == 200, kind
        assert b"<textarea" not in response.content or kind in ("http", "dns", "content", "tls")


def test_it_dumps(world):
    browser = signed_in(world.owner)
    response = browser.get(reverse("front:monitor_new", args=[world.site_a.pk]), {"kind": "http"})
    open("/tmp/forms-smoke/http.html", "wb").write(response.content)
