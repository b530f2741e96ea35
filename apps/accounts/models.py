"""Users, their role (one of the five role groups) and their field/site scope."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.contrib.auth.models import AbstractUser
from django.db import models, transaction

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

    # Sync (docs/sync.md): users are authored at the hub and pulled by the edges with the same id. The password hash
    # travels (a hub-made user signs in at an edge, also offline); last_login stays on each box (and LoginFailure
    # lockout rows are not synced at all). is_staff/is_superuser travel: is_staff follows the role (set_role) and a
    # superuser is an administrator wherever it signs in, so both must match the role that travels in the extras.
    # The role (an auth.Group M2M, integer ids per box) and the scopes (UserScope rows) travel as extras by natural
    # key: {"role": "operator", "scopes": [{"field": "NORTH"}, {"site": "PAD-A"}]}.
    sync_direction = "down"
    sync_exclude = ("last_login",)

    class Meta:
        ordering = ["username"]

    def save(self, *args, **kwargs):
        # The change and its outbox event (a post_save handler) commit together, as for BaseModel.
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            return super().delete(*args, **kwargs)

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

    # -- sync hooks (apps/sync/registry.py) ----------------------------------------------------------------------------
    def sync_extras(self) -> dict:
        """The role and scopes by natural key, read from the database (not the role cache)."""
        names = set(self.groups.filter(name__in=ROLE_ORDER).values_list("name", flat=True))
        scopes = UserScope.objects.filter(user_id=self.pk).order_by("kind", "code").values_list("kind", "code")
        return {"role": next((r for r in ROLE_ORDER if r in names), None),
                "scopes": [{kind: code} for kind, code in scopes]}

    @classmethod
    def sync_conflicts(cls, rows: dict) -> dict:
        """A username held here by another account (one made locally, e.g. during an outage) is not overwritten."""
        names = {p["username"]: pk for pk, p in rows.items() if isinstance(p.get("username"), str)}
        clashes = cls._base_manager.filter(username__in=list(names)).exclude(pk__in=list(rows))
        return {
            names[name]: (f"username {name!r} already belongs to another account on this box (id {pk}): not "
                          "overwritten; rename or remove that local account, then have the hub send the user again")
            for name, pk in clashes.values_list("username", "pk")
        }

    @classmethod
    def sync_apply_extras(cls, rows: dict) -> None:
        """Apply the role (set_role) and replace the scope set of each user, after its row was upserted."""
        from django.contrib.auth.models import Group

        from apps.sync.registry import Refused

        wanted: dict[uuid.UUID, tuple] = {}
        for pk, extras in rows.items():
            role = extras.get("role")
            if role is not None and role not in ROLE_ORDER:
                raise Refused(f"_extras.role: unknown role {role!r}")
            scopes = set()
            for item in extras.get("scopes") or ():
                pair = next(iter(item.items())) if isinstance(item, dict) and len(item) == 1 else None
                if pair is None or pair[0] not in ScopeKind.values or not isinstance(pair[1], str) \
                        or not 0 < len(pair[1]) <= UserScope._meta.get_field("code").max_length:
                    raise Refused(f"_extras.scopes: not a field or site code: {item!r}")
                scopes.add(pair)
            wanted[uuid.UUID(str(pk))] = (role, scopes)
        role_groups = list(Group.objects.filter(name__in=ROLE_ORDER))
        current: dict = defaultdict(set)
        for user_id, name in cls.groups.through.objects.filter(
                user_id__in=list(wanted), group__in=role_groups).values_list("user_id", "group__name"):
            current[user_id].add(name)
        for pk, user in cls._base_manager.in_bulk(list(wanted)).items():
            role = wanted[pk][0]
            if current[pk] == ({role} if role else set()):
                continue  # unchanged (a re-pull, or only other fields changed)
            if role is None:
                user.groups.remove(*role_groups)
            else:
                user.set_role(role)  # is_staff came with the row: set_role's copy on the instance is not saved
        have: dict = defaultdict(dict)
        for sid, user_id, kind, code in UserScope.objects.filter(user_id__in=list(wanted)).values_list(
                "id", "user_id", "kind", "code"):
            have[user_id][(kind, code)] = sid
        stale = [sid for pk, (_role, scopes) in wanted.items() for key, sid in have[pk].items() if key not in scopes]
        new = [UserScope(user_id=pk, kind=kind, code=code)
               for pk, (_role, scopes) in wanted.items() for kind, code in sorted(scopes - have[pk].keys())]
        # Applied from the hub like the user row itself: raw (no per-row signals, so no re-audit and no echo).
        if stale:
            UserScope.objects.filter(pk__in=stale)._raw_delete(UserScope.objects.db)
        if new:
            UserScope.objects.bulk_create(new)


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

    def save(self, *args, **kwargs):
        # With the user's outbox event (apps/accounts/signals.py), in one transaction.
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            return super().delete(*args, **kwargs)


class LoginFailure(models.Model):
    """A failed login, kept for the lockout window (per username and per client address)."""

    id = models.BigAutoField(primary_key=True)
    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"
