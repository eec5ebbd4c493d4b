"""Transaction check: a declarative list of browser steps (can a customer still pay?)."""

from __future__ import annotations

from django.utils import timezone
from pydantic import BaseModel, ConfigDict

from monitoring.checks.browser_kind import normalize_target, target_host
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.messages import deferred as _

__all__ = ["Options", "normalize_target", "run_in_browser", "target_host"]


class Options(BaseModel):
    """Kind-specific settings of a transaction monitor (the steps are built by its issue)."""

    model_config = ConfigDict(extra="forbid")


def run_in_browser(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
    """Run one transaction in a browser session and say what it found."""
    return Outcome(
        target.monitor_id,
        timezone.now(),
        ok=False,
        failure_class=FailureClass.INTERNAL_ERROR,
        message=_("The check could not be run"),
    )
