"""The monitoring app's models, a module for each part of the domain; every one is importable
from here (``from monitoring.models import Monitor``), which is where Django finds them."""

from monitoring.models.baselines import ContentBaseline
from monitoring.models.browser import ArtifactKind, BrowserArtifact
from monitoring.models.heartbeats import HeartbeatPing, PingKind
from monitoring.models.monitors import (
    NOT_CRITICAL_BY_DEFAULT,
    CheckKind,
    Monitor,
    MonitorState,
    Tag,
    TagColour,
    default_critical,
)
from monitoring.models.pauses import PauseAction, PauseEvent, PauseVia
from monitoring.models.results import CheckResult, HourlyRollup, StateChange
from monitoring.models.runs import EngineRun, RunLoop
from monitoring.models.speed import SpeedMeasurement, SpeedProfile

__all__ = [
    "NOT_CRITICAL_BY_DEFAULT",
    "ArtifactKind",
    "BrowserArtifact",
    "CheckKind",
    "CheckResult",
    "ContentBaseline",
    "EngineRun",
    "HeartbeatPing",
    "HourlyRollup",
    "Monitor",
    "MonitorState",
    "PauseAction",
    "PauseEvent",
    "PauseVia",
    "PingKind",
    "RunLoop",
    "SpeedMeasurement",
    "SpeedProfile",
    "StateChange",
    "Tag",
    "TagColour",
    "default_critical",
]
