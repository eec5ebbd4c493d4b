"""A failed transaction run of client A (contract details, a screenshot and a trace), for the
tests of the run's page."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.demo.hero import png
from monitoring.browser import artifacts
from monitoring.failures import FailureClass
from monitoring.models import BrowserArtifact, CheckKind, CheckResult, Monitor

# A real image (a 320×180 light strip), so a browser draws it.
PNG = png(320, 180, [bytes((250, 237, 205)) * 320] * 180, level=9)
TRACE = b"PK\x03\x04" + b"\x00" * 64


def step(index, action, summary, start, ms, ok=True, error="", description=""):
    return {
        "index": index,
        "action": action,
        "summary": summary,
        "description": description,
        "ok": ok,
        "start_ms": start,
        "ms": ms,
        "error": error,
    }


def seed_failed_run(world) -> tuple[Monitor, CheckResult, BrowserArtifact, BrowserArtifact]:
    """Client A's purchase that failed at step 4 (Pay), with its screenshot and trace."""
    monitor = Monitor.objects.create(
        site=world.site_a, name="Purchase", kind=CheckKind.TRANSACTION, url="https://a.example/"
    )
    at = timezone.now() - timedelta(minutes=3)
    shot = artifacts.keep(monitor.pk, at, "screenshot", data=PNG, step=3, caption="")
    trace = artifacts.keep(monitor.pk, at, "trace", data=TRACE)
    details = {
        "device": "desktop",
        "browser": "150.0.7871.100",
        "steps": [
            step(0, "goto", "goto /product/1", 0.0, 512.3),
            step(1, "click", "click button “Add to cart”", 512.3, 240.0),
            step(2, "fill", "fill “Card number” “${CARD}”", 752.3, 80.0),
            step(
                3,
                "click",
                "click button “Pay now”",
                832.3,
                10_000.0,
                ok=False,
                error="Payment provider did not answer",
                description="Pay",
            ),
            step(4, "wait_for", "wait_for **/order/*", 0.0, 0.0, ok=False),
        ],
        "failed_step": 3,
        "console_errors": [{"text": "Payment failed: HTTP 502"}],
        "page_errors": [{"message": "TypeError: pay is undefined"}],
        "failed_requests": [{"url": "https://a.example/cart/pay", "error": "HTTP 502"}],
        "blocked_requests": [
            {
                "url": "https://ads.example.net/t.js",
                "host": "ads.example.net",
                "reason": "blocked_host",
            },
            {"url": "http://127.0.0.1/x", "host": "127.0.0.1", "reason": "policy"},
        ],
        "artifacts": [
            {"id": str(shot.id), "kind": "screenshot", "step": 3, "caption": ""},
            {"id": str(trace.id), "kind": "trace", "step": None, "caption": ""},
        ],
    }
    result = CheckResult.objects.create(
        monitor=monitor,
        checked_at=at,
        ok=False,
        response_ms=10_832.3,
        failure_class=FailureClass.STEP_TIMEOUT,
        message="Step 4 (click Pay): no answer within 10 s",
        details=details,
    )
    return monitor, result, shot, trace
