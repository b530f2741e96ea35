"""``ApiContract`` with the world and the personas built once per test class (like Django's setUpTestData).

The class-scoped fixtures run inside one outer transaction that is rolled back after the class; each test still runs
in its own savepoint (pytest-django's TestCase behaviour), so tests stay isolated while the ~100 queries of building
five users and two fields are paid once per class instead of once per test. Not for transactional tests.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction

from apps.core.testing import ApiContract


class FastApiContract(ApiContract):
    @pytest.fixture(scope="class")
    @classmethod
    def _class_transaction(cls, django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
        try:
            yield
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)

    @pytest.fixture(scope="class")
    @classmethod
    def world(cls, _class_transaction, django_db_blocker):
        from apps.wells.models import Field, Site

        with django_db_blocker.unblock():
            fa = Field.objects.create(code="FA", name="Field A")
            fb = Field.objects.create(code="FB", name="Field B")
            return SimpleNamespace(
                field_a=fa,
                field_b=fb,
                site_a=Site.objects.create(field=fa, code="SA1", name="Site A1"),
                site_b=Site.objects.create(field=fb, code="SB1", name="Site B1"),
            )

    @pytest.fixture(scope="class")
    @classmethod
    def personas(cls, world, django_db_blocker):
        from apps.accounts.services import create_or_update_user
        from apps.core.rbac import ADMIN, ROLES

        users = {}
        with django_db_blocker.unblock():
            for role in ROLES:
                fields = [] if role == ADMIN else ["FA"]
                users[role], _ = create_or_update_user(f"{role}-user", role, fields=fields,
                                                       email=f"{role}@test.invalid")
        return users
