import importlib
import json
from types import ModuleType, SimpleNamespace

import pytest
from django.db import connection

from incidents.models import Channel
from monitoring.models import CheckKind, Monitor
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


def test_it_stores_monitor_options_encrypted(world):
    options = {
        "bearer_token": "tok-SECRET-123",
        "headers": {"X-Api-Key": "key-SECRET-456"},
    }
    Monitor.objects.filter(pk=world.monitor_a.pk).update(config=options)
    Monitor.objects.create(
        site=world.site_a,
        name="Admin",
        kind=CheckKind.HTTP,
        url="https://a.example/admin",
        config={"basic_auth": {"username": "ops", "password": "pw-SECRET-789"}},
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT config FROM monitoring_monitor")
        raw = [row[0] for row in cursor.fetchall()]
    assert all(value.startswith("enc1:") for value in raw)
    for secret in ("tok-SECRET-123", "key-SECRET-456", "pw-SECRET-789", "X-Api-Key", "ops"):
        assert secret not in " ".join(raw)
    assert Monitor.objects.get(pk=world.monitor_a.pk).config == options
    assert Monitor.objects.get(name="Admin").config["basic_auth"]["password"] == "pw-SECRET-789"
    assert Monitor.objects.get(pk=world.monitor_b.pk).config == {}


def _migration() -> ModuleType:
    return importlib.import_module("monitoring.migrations.0005_encrypt_monitor_config")


def test_it_encrypts_plain_rows_in_the_migration_and_decrypts_them_back(world):
    plain = '{"bearer_token": "tok-PLAIN-1"}'
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE monitoring_monitor SET config = %s WHERE id = %s", [plain, world.monitor_a.pk]
        )
        cursor.execute("SELECT config FROM monitoring_monitor WHERE id = %s", [world.monitor_b.pk])
        already = cursor.fetchone()[0]
    editor = SimpleNamespace(connection=connection)

    _migration().encrypt_configs(None, editor)
    assert Monitor.objects.get(pk=world.monitor_a.pk).config == {"bearer_token": "tok-PLAIN-1"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, config FROM monitoring_monitor")
        raw = dict(cursor.fetchall())
    assert "tok-PLAIN-1" not in raw[world.monitor_a.pk]
    assert raw[world.monitor_b.pk] == already  # encrypted rows are left alone

    _migration().decrypt_configs(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, config FROM monitoring_monitor")
        raw = dict(cursor.fetchall())
    assert json.loads(raw[world.monitor_a.pk]) == {"bearer_token": "tok-PLAIN-1"}
    assert json.loads(raw[world.monitor_b.pk]) == {}
