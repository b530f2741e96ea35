"""Users, their role (one of the five role groups) and their field/site scope."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.accounts.choices import Role, ScopeKind
from apps.core import rbac
from apps.core.choices import Severity
from apps.core.models import AuditSnapshotMixin

ROLE_ORDER = list(Role.values)


class User(AuditSnapshotMixin, AbstractUser):
    """A person or a service account (role ``scada``).

    The role is the user's membership in one of the role groups; ``all_fields`` lifts the field/site scope (the
    admin role always sees everything). Otherwise the user sees the fields and sites listed in ``scopes``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    all_fields = models.BooleanField(
        default=False, help_text="Sees every field and site. Otherwise only the fields/sites in the user's scopes."
    )
    notify_by_email = models.BooleanField(default=False, help_text="Also send notifications by e-mail.")
    notify_min_severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    phone = models.CharField(max_length=40, blank=True)

    rbac = {rbac.SUPERVISOR: rbac.READ}
    audit_exclude = ("password",)

    class Meta:
        ordering = ["username"]

    @property
    def role(self) -> str | None:
        if self.is_superuser:
            return Role.ADMIN
        cached = getattr(self, "_role_cache", False)
        if cached is False:
            names = set(self.groups.filter(name__in=ROLE_ORDER).values_list("name", flat=True))
            cached = next((r for r in ROLE_ORDER if r in names), None)
            self._role_cache = cached
        return cached

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username

    def set_role(self, role: str) -> None:
        from django.contrib.auth.models import Group

        if role not in ROLE_ORDER:
            raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLE_ORDER)}.")
        groups = Group.objects.filter(name__in=ROLE_ORDER)
        self.groups.remove(*groups)
        self.groups.add(Group.objects.get(name=role))
        self.is_staff = role in (Role.ADMIN, Role.SUPERVISOR)
        self._role_cache = role
        for attr in ("_perm_cache", "_group_perm_cache", "_user_perm_cache", "_scope_codes_cache"):
            self.__dict__.pop(attr, None)


class UserScope(models.Model):
    """One field or site a user is assigned to (by its code, so accounts does not depend on the wells app)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scopes")
    kind = models.CharField(max_length=8, choices=ScopeKind.choices, default=ScopeKind.FIELD)
    code = models.CharField(max_length=64)

    rbac = {rbac.SUPERVISOR: rbac.READ}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "code"], name="uniq_user_scope")]

    def __str__(self):
        return f"{self.kind}:{self.code}"


class LoginFailure(models.Model):
    """A failed login, kept for the lockout window (per username and per client address)."""

    id = models.BigAutoField(primary_key=True)
    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"
