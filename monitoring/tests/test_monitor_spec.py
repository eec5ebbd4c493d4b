import pytest
from pydantic import ValidationError

from monitoring.spec import parse_monitor
from sitecare.lib.netpolicy import IPNetwork


def errors_of(data: dict, allowlist: list[IPNetwork] | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_monitor(data, allowlist or [])
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


def test_it_accepts_a_flat_http_monitor_and_splits_its_options():
    d = parse_monitor(
        {"name": "Home", "url": "https://shop.example/", "interval": 30, "keyword": "Cart"}, []
    )
    assert d.common.interval == 30
    assert d.options == {"keyword": "Cart"}


def test_it_names_each_bad_field():
    errs = errors_of(
        {"name": "x", "url": "ftp://x", "interval": -5, "colour": "red", "expected_status": "2xx"}
    )
    assert set(errs) == {"url", "interval", "colour", "expected_status"}
    assert "http://" in errs["url"]
    assert "Extra inputs" in errs["colour"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_it_refuses_literal_private_addresses_with_one_message(url):
    errs = errors_of({"name": "x", "url": url})
    assert list(errs) == ["url"]
    assert "not allowed by the network policy" in errs["url"]


def test_it_reports_a_timeout_longer_than_the_interval_on_the_timeout_field():
    errs = errors_of({"name": "x", "url": "https://a.example/", "interval": 30, "timeout": 40})
    assert list(errs) == ["timeout"]


def test_it_reports_a_blocked_address_together_with_other_errors():
    errs = errors_of({"name": "x", "url": "http://10.0.0.1/", "interval": 5})
    assert set(errs) == {"url", "interval"}
