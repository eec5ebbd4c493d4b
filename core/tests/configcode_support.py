"""Shared by the config-as-code tests: applying a document that must be refused."""

from __future__ import annotations

import pytest

from core.configcode import ConfigError, apply_config


def refused(document: str) -> ConfigError:
    """Apply a document that must be refused; return the error (its issues and text)."""
    with pytest.raises(ConfigError) as caught:
        apply_config(document)
    return caught.value
