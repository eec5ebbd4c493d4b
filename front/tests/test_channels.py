"""A failing alert channel is plainly visible; channel addresses are never shown whole."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from incidents.models import Channel


def test_it_shows_a_failing_channel_as_failing_with_its_last_error(world):
    channel = Channel.objects.get(name="A hook")
    channel.consecutive_failures = 3
    channel.last_error = "connection refused by 127.0.0.1:9"
    channel.last_error_at = timezone.now()
    channel.save()
    response = signed_in(world.client_a_user).get(reverse("front:channels"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "badge--failing" in html
    assert "Failing" in html
    assert "connection refused by 127.0.0.1:9" in html
    assert "B hook" not in html


def test_it_shows_channel_urls_redacted_only(world):
    Channel.objects.create(
        organization=world.agency,
        name="Slack",
        url="slack://TOKENA/TOKENB/TOKENC/#alerts",
    )
    html = signed_in(world.owner).get(reverse("front:channels")).content.decode()
    assert "slack://***" in html
    assert "TOKENA" not in html
    assert "TOKENB" not in html
    assert "json://127.0.0.1:9/***" in html
