import pytest
from django.db import connection

from incidents.models import Channel
from sitecare.lib.crypto import decrypt, encrypt, redact_url


def test_it_round_trips_and_refuses_foreign_values():
    assert decrypt(encrypt("json://user:pw@hooks.example.com/x")) == (
        "json://user:pw@hooks.example.com/x"
    )
    with pytest.raises(ValueError):
        decrypt("json://plain")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://user:secret@hooks.example.com/path", "json://hooks.example.com/***"),
        ("tgram://123456:AAbbccddeeffgg/987", "tgram://***"),
        ("slack://TokenA/TokenB/TokenC", "slack://***"),
        ("mailto://me:pw@mail.example.pl", "mailto://mail.example.pl/***"),
        ("not a url", "***"),
    ],
)
def test_it_redacts_tokens_in_host_position(url, shown):
    assert redact_url(url) == shown


def test_it_stores_channel_urls_encrypted(world):
    Channel.objects.create(
        organization=world.agency, name="Slack", url="slack://TokenA/TokenB/TokenC"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM incidents_channel WHERE name = %s", ["Slack"])
        raw = cursor.fetchone()[0]
    assert "TokenB" not in raw and raw.startswith("enc1:")
    assert Channel.objects.get(name="Slack").url == "slack://TokenA/TokenB/TokenC"
