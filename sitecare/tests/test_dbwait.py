"""A bounded lock wait applies inside its block only."""

from __future__ import annotations

import pytest
from django.db import connection

from sitecare.lib.dbwait import lock_wait


def busy_timeout() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db
def test_it_shortens_the_lock_wait_inside_the_block_and_puts_it_back_after():
    usual = busy_timeout()
    assert usual >= 5000
    with lock_wait(0.25):
        assert busy_timeout() == 250
    assert busy_timeout() == usual


@pytest.mark.django_db
def test_it_puts_the_usual_wait_back_when_the_block_fails():
    usual = busy_timeout()
    with pytest.raises(RuntimeError), lock_wait(0.5):
        raise RuntimeError("the write failed")
    assert busy_timeout() == usual
