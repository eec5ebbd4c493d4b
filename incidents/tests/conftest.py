import pytest


@pytest.fixture
def world(world):
    """The shared world, whose agency admits loopback: these tests deliver alerts to local
    receivers, and every delivery is held to the agency's network policy."""
    world.agency.ssrf_allowlist = "127.0.0.0/8\n::1/128"
    world.agency.save(update_fields=["ssrf_allowlist"])
    return world
