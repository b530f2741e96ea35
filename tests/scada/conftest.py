"""Fixtures shared by the SCADA tests."""

import pytest
from django.db import connection


@pytest.fixture
def clean_historian(transactional_db):
    """The historian table is unmanaged: transactional tests' flush does not empty it, so empty it around the test."""

    def wipe():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM scada_historian")

    wipe()
    yield
    wipe()
