"""Both browser kinds read ``block_hosts`` the same way, as the guard proxy compares them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitoring.checks import options_model

STEPS = {"steps": [{"action": "goto", "url": "/"}]}


@pytest.mark.parametrize("kind", ["transaction", "speed"])
def test_it_keeps_hosts_and_patterns_in_the_proxys_form(kind):
    hosts = ["Ads.Example.net.", "*.google-analytics.com", "ads.example.net"]
    data = {"block_hosts": hosts, **(STEPS if kind == "transaction" else {})}
    options = options_model(kind).model_validate(data).model_dump()
    assert options["block_hosts"] == ["ads.example.net", "*.google-analytics.com"]


@pytest.mark.parametrize("kind", ["transaction", "speed"])
@pytest.mark.parametrize(
    ("hosts", "words"),
    [
        (["ads.*.net"], "ads.*.net is not a host name or a pattern like *.example.com"),
        (["-ads.example"], "-ads.example is not a host name"),
        ([f"h{i}.example" for i in range(51)], "at most 50 hosts"),
    ],
)
def test_it_refuses_the_same_hosts_with_the_same_words(kind, hosts, words):
    data = {"block_hosts": hosts, **(STEPS if kind == "transaction" else {})}
    with pytest.raises(ValidationError, match=words.replace("*", r"\*").replace(".", r"\.")):
        options_model(kind).model_validate(data)
