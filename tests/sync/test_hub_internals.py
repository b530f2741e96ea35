"""Small hub-side pieces with sharp edges: array literals built by hand for the receipts and versions, and the
garbage-collector tuning the long-running processes apply."""

import gc

import pytest
from django.db import connection

from apps.sync.services import _pg_array


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("values", [
    ["plain", "0191e7a4-6f2e-7c3d-9a1b-2c3d4e5f6a7b"],
    ["a,b", "{x}", "NULL", "", " spaced ", "ü"],  # quoted: commas, braces, NULL-like words stay text
    ['he said "hi"', "back\\slash", 'x\\"y', "\\"],  # the escaping path
    [],
])
def test_array_literal_round_trips_through_postgresql(values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [_pg_array(values)])
        assert cursor.fetchone()[0] == values


def test_gc_tuning_freezes_start_up_objects_and_raises_the_first_threshold(settings):
    from erp import gctune

    before = gc.get_threshold()
    try:
        settings.GC_GEN0_THRESHOLD = 0  # off: Python's defaults stay
        gctune.tune()
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        settings.GC_GEN0_THRESHOLD = 12345
        gctune.tune()
        assert gc.get_threshold() == (12345, before[1], before[2])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
