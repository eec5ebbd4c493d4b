"""The registry of job functions and queues.

A job function is a plain function of its payload (a JSON-able dict), registered by name with
the queue it runs on, its time limit, how many attempts it gets and its retry backoff::

    @job("backups.run", queue="default", timeout=3600, max_attempts=2)
    def run_backup(payload: dict[str, Any]) -> Finish:
        ...
        return Finish(result={"snapshot": sid}, effect=lambda: record(sid))

It returns None, a JSON-able result, or a :class:`Finish` whose ``effect`` the layer runs in
the one transaction that marks the job done, on condition that the job is still the caller's
(``jobs.execute``): an effect is recorded once, whoever else ran the job meanwhile.

Functions are found by importing each installed app's ``job_functions`` module and the
modules named in ``SITECARE_JOB_MODULES`` (:func:`load`), in every process that runs jobs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import autodiscover_modules

Payload = dict[str, Any]
Effect = Callable[[], None]

# Queues and how many of their jobs one runner runs at once.
QUEUES: dict[str, Callable[[], int]] = {
    "default": lambda: settings.SITECARE_JOB_WORKERS,
    # Browser checks: one browser per worker process, so one per core by default.
    "browser": lambda: settings.SITECARE_BROWSER_WORKERS,
    # Page speed: never two measurements at once on one runner (they would slow each other).
    "speed": lambda: 1,
}


@dataclass(frozen=True)
class Finish:
    """What a job function hands back: its result (stored on the job) and its effect (run
    in the transaction that finishes the job, only while the job is still ours)."""

    result: Any = None
    effect: Effect | None = None


@dataclass(frozen=True)
class JobSpec:
    """A registered job function and its policy."""

    name: str
    fn: Callable[[Payload], Finish | Any]
    queue: str = "default"
    timeout: float = 300.0
    max_attempts: int = 3
    # Retry n (1-based) waits backoff_base * 2**(n-1) seconds, at most backoff_cap.
    backoff_base: float = 10.0
    backoff_cap: float = 3600.0
    # Run (in the transaction that fails the job for good) when it is out of attempts: a
    # check that never finished is recorded as failed, so it cannot stay green silently.
    on_give_up: Callable[[Payload, str], None] | None = field(default=None)

    def backoff(self, attempts: int) -> float:
        """Seconds before the attempt after ``attempts`` failed ones."""
        return float(min(self.backoff_cap, self.backoff_base * 2 ** max(attempts - 1, 0)))


REGISTRY: dict[str, JobSpec] = {}


class UnknownJob(LookupError):
    """No job function is registered under that name (its module is not loaded)."""


def register(spec: JobSpec) -> JobSpec:
    """Add a job function to the registry (the same spec again is fine: modules reload)."""
    if spec.queue not in QUEUES:
        raise ValueError(f"job {spec.name!r}: unknown queue {spec.queue!r} ({', '.join(QUEUES)})")
    if spec.max_attempts < 1 or spec.timeout <= 0:
        raise ValueError(f"job {spec.name!r}: needs max_attempts >= 1 and a positive timeout")
    REGISTRY[spec.name] = spec
    return spec


def job(
    name: str,
    *,
    queue: str = "default",
    timeout: float = 300.0,
    max_attempts: int = 3,
    backoff_base: float = 10.0,
    backoff_cap: float = 3600.0,
    on_give_up: Callable[[Payload, str], None] | None = None,
) -> Callable[[Callable[[Payload], Any]], Callable[[Payload], Any]]:
    """Register the decorated function as the job ``name`` (it stays a plain function)."""

    def decorate(fn: Callable[[Payload], Any]) -> Callable[[Payload], Any]:
        register(
            JobSpec(name, fn, queue, timeout, max_attempts, backoff_base, backoff_cap, on_give_up)
        )
        return fn

    return decorate


def load() -> None:
    """Import every module that registers job functions (idempotent)."""
    autodiscover_modules("job_functions")
    for module in settings.SITECARE_JOB_MODULES:
        importlib.import_module(module)


def spec_of(name: str) -> JobSpec:
    if name not in REGISTRY:
        load()
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownJob(f"no job function is registered as {name!r}") from None


def queue_sizes() -> dict[str, int]:
    """How many jobs of each queue one runner runs at once."""
    return {name: max(1, size()) for name, size in QUEUES.items()}
