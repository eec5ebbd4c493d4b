"""``sitecare run [--demo]``: the web server, probe engine, alert sender and job runner as one
process tree.

The embedded default deployment: one command, supervised children, Ctrl-C/SIGTERM stops all.
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core.demo.state import shop_url
from core.management.commands.setup import secure_files
from core.supervisor import ChildSpec, Output, ReadyCheck, run_supervised
from sitecare.lib.env import env_int, env_str

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Sized for a 2-core machine: two processes so one slow page does not block the other,
# a few threads each since most time is spent waiting on SQLite and the network.
WEB_WORKERS = 2
WEB_THREADS = 4
# Wildcard binds are announced (and probed) through loopback.
_LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


class Command(BaseCommand):
    help = _(
        "Run the web server, the probe engine, the alert sender and the job runner (with --demo "
        "also the demo shop) as one supervised process tree; Ctrl-C or SIGTERM stops them all."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--demo", action="store_true", help=_("also serve the demo shop"))
        parser.add_argument(
            "--host", default=None, help=_("address to listen on (SITECARE_HOST, 127.0.0.1)")
        )
        parser.add_argument(
            "--port", type=int, default=None, help=_("port to listen on (SITECARE_PORT, 8000)")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host = options["host"] or env_str("SITECARE_HOST", DEFAULT_HOST)
        port = options["port"] or env_int("SITECARE_PORT", DEFAULT_PORT, minimum=1)
        secure_files(self.stdout.write)
        output = Output()
        ready = ReadyCheck(
            loopback_for(host), port, "/login/", announcement(host, port, options["demo"]), output
        )
        run_supervised(child_specs(host, port, demo=options["demo"]), output=output, on_tick=ready)
        self.stdout.write(_("sitecare stopped."))


def loopback_for(host: str) -> str:
    return _LOOPBACK_FOR.get(host, host)


def url_for(host: str, port: int, path: str = "/") -> str:
    shown = loopback_for(host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{path}"


def announcement(host: str, port: int, demo: bool) -> list[str]:
    """What to print once the web server answers."""
    lines = [_("sitecare is running: open %(url)s") % {"url": url_for(host, port)}]
    if demo:
        lines.append(
            _("Demo shop: %(shop)s · its alert inbox: %(inbox)s · break it at %(toggle)s")
            % {
                "shop": shop_url("/"),
                "inbox": shop_url("/_inbox"),
                "toggle": url_for(host, port, "/demo/"),
            }
        )
    lines.append(_("Press Ctrl-C to stop everything."))
    return lines


def child_env(host: str, port: int) -> dict[str, str]:
    """The children's environment: ours, unbuffered, with the public URL defaulting to ours."""
    env = dict(os.environ)
    # Without this, output through the pipe arrives in 8 KiB bursts instead of lines.
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DJANGO_SETTINGS_MODULE", "sitecare.settings")
    env.setdefault("SITECARE_BASE_URL", url_for(host, port).rstrip("/"))
    return env


def sitecare_command(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "sitecare.cli", *args)


def web_command(host: str, port: int) -> tuple[str, ...]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return (
        sys.executable,
        "-m",
        "gunicorn",
        "sitecare.wsgi:application",
        f"--bind={bind}",
        f"--workers={WEB_WORKERS}",
        f"--threads={WEB_THREADS}",
        "--worker-class=gthread",
        "--graceful-timeout=5",
        "--access-logfile=-",
        "--error-logfile=-",
        # The control socket defaults to one path in $HOME: a second sitecare would clash.
        "--no-control-socket",
        f"--chdir={settings.BASE_DIR}",
    )


def child_specs(host: str, port: int, *, demo: bool) -> list[ChildSpec]:
    env = child_env(host, port)
    specs = [
        ChildSpec("web", web_command(host, port), env),
        ChildSpec("probe-engine", sitecare_command("probe-engine"), env),
        ChildSpec("alert-sender", sitecare_command("alert-sender"), env),
        ChildSpec("job-runner", sitecare_command("job-runner"), env),
    ]
    if demo:
        specs.append(ChildSpec("demo-site", sitecare_command("demo-site"), env))
    return specs
