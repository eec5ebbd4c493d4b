"""Config as code: one YAML document describes an agency's clients, sites, monitors, channels.

``apply_config`` / ``apply_file`` validate the whole document first (every error with its YAML
path and line), then diff against the database and write the differences in one transaction;
applying the same document twice writes nothing. ``export_config`` writes the same format.
"""

from core.configcode.apply import apply_config, apply_file
from core.configcode.errors import ConfigError, ConfigIssue
from core.configcode.export import export_config
from core.configcode.report import Action, ApplyReport, Change, FieldChange, ObjectKind

__all__ = [
    "Action",
    "ApplyReport",
    "Change",
    "ConfigError",
    "ConfigIssue",
    "FieldChange",
    "ObjectKind",
    "apply_config",
    "apply_file",
    "export_config",
]
