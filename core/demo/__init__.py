"""The demo shop that ``make run`` starts beside the platform, and the switch that breaks it."""

from core.demo.shop import build_app, serve
from core.demo.state import (
    DemoMode,
    demo_port,
    get_demo_mode,
    set_demo_mode,
    shop_url,
    slow_seconds,
)

__all__ = [
    "DemoMode",
    "build_app",
    "demo_port",
    "get_demo_mode",
    "serve",
    "set_demo_mode",
    "shop_url",
    "slow_seconds",
]
