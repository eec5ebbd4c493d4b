"""A bounded schemathesis run over the whole API: no input the OpenAPI schema admits gets a 500,
every answer's status is one the operation documents and its body matches the schema documented
for it, for an agency owner and a client's user.

Deterministic (derandomized, no example database) and bounded: a few examples per operation,
every operation once, in well under a minute. Path ids point at real objects of the world most
of the time, so writes reach the code behind the 404. Nothing leaves the machine: "send test"
is not fuzzed, and no engine or sender runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from incidents.models import (
    Channel,
    EscalationPolicy,
    Incident,
    MaintenanceWindow,
    OnCallOverride,
    OnCallSchedule,
    StatusComponent,
    StatusPage,
)
from monitoring.models import Tag
from sla.models import CarePlan
from tenancy.models import ApiToken

# A longer run by hand: SITECARE_API_FUZZ_EXAMPLES=200 pytest api/tests/test_api_fuzz.py
EXAMPLES_PER_OPERATION = int(os.environ.get("SITECARE_API_FUZZ_EXAMPLES", "12"))
# Fuzzing these would send a message out (a channel test) or end the fuzzer's own session.
SKIPPED = {("POST", "/api/v1/channels/{channel_id}/test"), ("DELETE", "/api/v1/tokens/{token_id}")}


@dataclass
class Fuzzing:
    schema: Any
    tokens: list[str]
    ids: dict[str, int]


def _objects(world) -> dict[str, int]:
    """A real object for every kind of id a path takes."""
    now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    plan = CarePlan.objects.create(
        organization=world.agency, name="Gold", slug="gold", availability_target=Decimal("99.9")
    )
    schedule = OnCallSchedule.objects.create(organization=world.agency, name="Week")
    override = OnCallOverride.objects.create(
        schedule=schedule, user=world.engineer, starts_at=now, ends_at=now + timedelta(hours=1)
    )
    window = MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Updates",
        start_date=now.date(),
        start_time=time(4),
        duration_minutes=60,
    )
    policy = EscalationPolicy.objects.create(organization=world.agency, name="Default")
    page = StatusPage.objects.create(client=world.client_a, title="Status", slug="status")
    component = StatusComponent.objects.create(page=page, monitor=world.monitor_a, name="Shop")
    incident = Incident.objects.create(monitor=world.monitor_a, opened_at=now)
    tag = Tag.objects.create(organization=world.agency, name="Shops")
    world.monitor_a.tags.add(tag)  # so a client user reads it too
    return {
        "client_id": world.client_a.pk,
        "site_id": world.site_a.pk,
        "monitor_id": world.monitor_a.pk,
        "channel_id": Channel.objects.get(name="A hook").pk,
        "plan_id": plan.pk,
        "schedule_id": schedule.pk,
        "override_id": override.pk,
        "window_id": window.pk,
        "policy_id": policy.pk,
        "page_id": page.pk,
        "component_id": component.pk,
        "incident_id": incident.pk,
        "tag_id": tag.pk,
    }


@pytest.fixture
def fuzzing(world, settings) -> Iterator[Fuzzing]:
    settings.ALLOWED_HOSTS = ["localhost"]
    # Django closes the connection at the end of each request; inside the test's transaction
    # that would throw the world away (Django's own test client disconnects it the same way).
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        tokens = [ApiToken.issue(user, "fuzz")[1] for user in (world.owner, world.client_a_user)]
        yield Fuzzing(schema=schema, tokens=tokens, ids=_objects(world))
    finally:
        request_finished.connect(close_old_connections)


def _cases(operation: Any, ids: dict[str, int]) -> st.SearchStrategy[Any]:
    """Cases of one operation: valid ones with the world's ids in the path mostly, generated
    ids too, and some invalid ones (which must be refused with a documented 4xx)."""
    names = [p.name for p in operation.path_parameters]
    if operation.method.upper() == "DELETE" or not all(n in ids for n in names):
        path: dict[str, int] = {}  # deleting the world's objects would starve the rest
    else:
        path = {n: ids[n] for n in names}
    valid = operation.as_strategy(path_parameters=path)
    invalid = operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path)
    return st.one_of(valid, valid, operation.as_strategy(), invalid)


@pytest.mark.timeout(90)
def test_it_answers_every_operation_without_a_server_error_and_as_documented(fuzzing):
    failures: list[str] = []
    for result in fuzzing.schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=timedelta(seconds=10),  # a request that hangs is a failure too
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_cases(operation, fuzzing.ids), token=st.sampled_from(fuzzing.tokens))
        def run(case: Any, token: str) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
            )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every failing operation, not the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
