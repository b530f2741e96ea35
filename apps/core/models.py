"""Abstract base models, the append-only audit trail and in-app notifications."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from apps.core import rbac
from apps.core.choices import AuditAction, AuditChannel, Severity
from apps.core.ids import uuid7
from apps.core.permissions import AuditScope, OwnerScope, restrict


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        """The rows ``user`` may ``action`` (apps.core.permissions.restrict)."""
        return restrict(self, user, action)


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


class AuditSnapshotMixin:
    """Keeps the values loaded from the database so the audit diff of an update needs no extra query."""

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        from apps.core.audit import snapshot

        instance._audit_snapshot = snapshot(instance)
        return instance


class BaseModel(AuditSnapshotMixin, models.Model):
    """UUID key (records are created on edges and merged at the hub), timestamps and acting users, audit, scope.

    Class attributes a subclass may set:
    - ``scope``: a apps.core.permissions.Scope (None: every user with the role's permission sees every row);
    - ``rbac``: role -> actions (apps.core.rbac); default: supervisors write, operators and viewers read;
    - ``audited``: write an AuditEvent for each create/update/delete (default True);
    - ``audit_exclude``: field names kept out of audit diffs (secrets, large blobs).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = ScopedManager()

    scope = None
    rbac = rbac.DEFAULT
    audited = True
    audit_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        from apps.core.context import current

        actor = current().actor
        if actor is not None:
            if self._state.adding and self.created_by_id is None:
                self.created_by = actor
            self.updated_by = actor
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"updated_at", "updated_by"}
        # The change and what its post_save handlers write (audit row, sync outbox event) commit together or not at all.
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            return super().delete(*args, **kwargs)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")

    def restrict(self, user, action: str = "view"):
        return restrict(self, user, action)


class AuditEvent(models.Model):
    """One append-only row per change, login or denial: who, from where, what, and the before/after of each field.

    Rows are never updated or deleted (the model, its queryset and, on PostgreSQL, a trigger refuse it).
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)  # time-ordered: appended, not scattered
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor_name = models.CharField(max_length=150, help_text="Username at the time, or 'system'.")
    channel = models.CharField(max_length=16, choices=AuditChannel.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="{field: [before, after]}"
    )
    message = models.TextField(blank=True)
    field_code = models.CharField(max_length=64, blank=True)
    site_code = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    scope = AuditScope()
    rbac = {rbac.SUPERVISOR: rbac.READ}
    audited = False

    class Meta:
        ordering = ["-at"]
        # Append-only and written with every change (and by the hub for every synced audit row), so each index is
        # paid on every write. Kept, with what needs them (PostgreSQL would also add a text_pattern_ops twin for
        # each CharField db_index, which nothing here uses):
        # - the primary key; ``at`` (db_index): every list is ordered by -at and paged, since/until ranges,
        #   the admin's date hierarchy; ``actor`` (the foreign key's index): the actor filter, a scoped reader's
        #   own actions, and SET NULL when a user is deleted;
        # - (object_id, at): a record's history (object_type is checked on those few rows) and the object_id filter;
        # - field_code, site_code: a scoped reader's rows (AuditScope: field_code IN ... OR site_code IN ... OR
        #   actor = me) as a bitmap OR of the three instead of a scan of the whole trail.
        # Not indexed: action, channel, object_type alone (few distinct values: the -at scan filters them).
        indexes = [
            models.Index(fields=["object_id", "at"], name="core_audit_object_at"),
            models.Index(fields=["field_code"], name="core_audit_field"),
            models.Index(fields=["site_code"], name="core_audit_site"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")


class Notification(BaseModel):
    """An in-app message to one user (bell in the UI shell), optionally also sent by e-mail."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    scope = OwnerScope("recipient")
    rbac = {role: ("view", "change") for role in (rbac.SUPERVISOR, rbac.OPERATOR, rbac.VIEWER, rbac.SCADA)}
    audited = False

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.subject
