"""Tests of data migrations: the database rewound to a past state of its migrations, rows
written there with the models as they were, then migrated forward; put back to the latest
state afterwards, whatever happened (the tests need ``django_db(transaction=True)``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

Targets = list[tuple[str, str]]


def _migrate(targets: Targets) -> StateApps:
    # A new executor each time: its loader knows what is applied only as it was built.
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


class Rewound:
    """The database at a past state: ``apps`` are the models as they are there."""

    def __init__(self, targets: Targets) -> None:
        self.apps = _migrate(targets)

    def migrate(self, targets: Targets) -> StateApps:
        """Migrate to ``targets``; the models as they are there (``apps`` too, from now)."""
        self.apps = _migrate(targets)
        return self.apps


@contextmanager
def rewound(targets: Targets) -> Iterator[Rewound]:
    """The database migrated back to ``targets`` for the block, then to the latest state."""
    try:
        yield Rewound(targets)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
