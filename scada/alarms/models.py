"""ISA-18.2 alarms: definitions per tag, one state record per definition, and the append-only journal.

State model of an ``Alarm`` (implemented only in ``scada.alarms.services.transition``):

    NORMAL       --raise-->      UNACKED        (condition active after its on-delay)
    UNACKED      --ack-->        ACKED
    UNACKED      --clear-->      RTN_UNACKED    (condition normal after its off-delay and deadband)
    ACKED        --clear-->      NORMAL
    RTN_UNACKED  --ack-->        NORMAL
    RTN_UNACKED  --raise-->      UNACKED
    NORMAL|UNACKED|ACKED|RTN_UNACKED --shelve(reason, until)--> SHELVED   (operator; returns by itself at expiry)
    SHELVED      --unshelve|shelve_expired--> UNACKED if the condition is active, else NORMAL
    any but OUT_OF_SERVICE --suppress--> SUPPRESSED   (by design, e.g. while the well is shut in)
    SUPPRESSED   --unsuppress-->  UNACKED if active, else NORMAL
    any          --out_of_service(reason)--> OUT_OF_SERVICE   (supervisor, maintenance)
    OUT_OF_SERVICE --return_to_service--> UNACKED if active, else NORMAL

While SHELVED, SUPPRESSED or OUT_OF_SERVICE the engine still tracks whether the condition is active (``active``) so
the alarm returns in the right state; it raises nothing to the operator. Bad quality never counts as a value crossing a
limit: it holds the limit alarms and raises the tag's COMM alarm instead.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.core import rbac
from apps.core.models import BaseModel, ScopedManager
from apps.core.permissions import FieldScope
from scada.alarms.choices import AlarmEvent, AlarmKind, AlarmState, Priority


class AlarmDefinition(BaseModel):
    """What makes a tag alarm, with its rationalisation (cause, consequence, operator action)."""

    tag = models.ForeignKey("scada.Tag", on_delete=models.CASCADE, related_name="alarm_definitions")
    kind = models.CharField(max_length=8, choices=AlarmKind.choices)
    setpoint = models.FloatField(
        null=True, blank=True,
        help_text="Limit (HH/H/L/LL, engineering units), alarm state value (DIGITAL) or rate per minute (ROC).",
    )
    deadband = models.FloatField(default=0.0, help_text="Hysteresis: how far back past the limit before it clears.")
    on_delay_s = models.PositiveIntegerField(default=0, help_text="Condition must hold this long before raising.")
    off_delay_s = models.PositiveIntegerField(default=0, help_text="Condition must be normal this long to clear.")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    message = models.CharField(max_length=200)
    cause = models.TextField(blank=True)
    consequence = models.TextField(blank=True)
    operator_action = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    suppress_when_shut_in = models.BooleanField(
        default=True, help_text="Suppressed by design while the tag's well is shut in."
    )
    create_work_order = models.BooleanField(
        default=False, help_text="Open a corrective work order on the tag's equipment when it raises."
    )

    scope = FieldScope("tag__device__site__field__code", site="tag__device__site__code")
    rbac = rbac.SUPERVISOR_WRITES

    class Meta:
        ordering = ["tag__name", "kind"]
        constraints = [models.UniqueConstraint(fields=["tag", "kind"], name="uniq_alarm_kind_per_tag")]

    def __str__(self):
        return f"{self.tag.name} {self.kind}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.kind != AlarmKind.COMM and self.setpoint is None:
            raise ValidationError({"setpoint": "A limit, state or rate alarm needs a setpoint."})
        if self.deadband < 0:
            raise ValidationError({"deadband": "The deadband cannot be negative."})
        if self.kind == AlarmKind.RATE_OF_CHANGE and self.setpoint is not None and self.setpoint <= 0:
            raise ValidationError({"setpoint": "A rate-of-change limit must be positive (units per minute)."})


class Alarm(models.Model):
    """The live state of one alarm definition (kept in the database so a gateway restart resumes where it was)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    definition = models.OneToOneField(AlarmDefinition, on_delete=models.CASCADE, related_name="alarm")
    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="alarms")
    state = models.CharField(max_length=16, choices=AlarmState.choices, default=AlarmState.NORMAL, db_index=True)
    active = models.BooleanField(default=False, help_text="The condition is active now (whatever the state).")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM, db_index=True)
    occurrence = models.PositiveIntegerField(default=0, help_text="Counts raises; one occurrence = one raise.")
    value = models.FloatField(null=True, blank=True, help_text="Value at the last transition.")
    raised_at = models.DateTimeField(null=True, blank=True, db_index=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    acked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    pending_since = models.DateTimeField(null=True, blank=True, help_text="Condition true, on-delay running.")
    clearing_since = models.DateTimeField(null=True, blank=True, help_text="Condition false, off-delay running.")
    shelved_until = models.DateTimeField(null=True, blank=True)
    shelved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    shelve_reason = models.CharField(max_length=200, blank=True)
    service_reason = models.CharField(max_length=200, blank=True, help_text="Why it is out of service.")
    last_value = models.FloatField(null=True, blank=True)
    last_ts = models.FloatField(null=True, blank=True, help_text="Epoch seconds of the last evaluated sample.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    scope = FieldScope("site__field__code", site="site__code")
    rbac = {
        rbac.SUPERVISOR: ("view", "ack", "shelve", "remove"),
        rbac.OPERATOR: ("view", "ack", "shelve"),
        rbac.VIEWER: ("view",),
    }

    class Meta:
        ordering = ["-raised_at"]
        permissions = [
            ("ack_alarm", "Can acknowledge alarms"),
            ("shelve_alarm", "Can shelve and unshelve alarms"),
            ("remove_alarm", "Can take alarms out of service and return them"),
        ]
        indexes = [models.Index(fields=["site", "state"])]

    def __str__(self):
        return f"{self.definition} [{self.state}]"


class AlarmJournal(models.Model):
    """Append-only record of every transition: who, when, from, to, and the value."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Always set on the box that made the row; empty in the hub's copy (the alarm state row does not sync: see below).
    alarm = models.ForeignKey(Alarm, null=True, on_delete=models.CASCADE, related_name="journal")
    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="+")
    # Which alarm, by name: travels with the row, so the hub's copy (no ``alarm`` link) still says what it was.
    tag_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=16, blank=True, help_text="HH, H, L, LL, DIGITAL, ROC, COMM...")
    at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=20, choices=AlarmEvent.choices)
    from_state = models.CharField(max_length=16, choices=AlarmState.choices)
    to_state = models.CharField(max_length=16, choices=AlarmState.choices)
    value = models.FloatField(null=True, blank=True)
    occurrence = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, default="system")
    comment = models.CharField(max_length=300, blank=True)

    objects = ScopedManager()

    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.READ_ONLY
    # apps.sync: up, append-only (registered in apps/sync/apps.py). ``alarm`` stays home: its closure (Alarm ->
    # AlarmDefinition -> Tag -> Device) is per-box SCADA configuration (Tag.key, Device/Tag names are unique per box,
    # not across edges) and the Alarm row is rewritten at every evaluation.
    sync_direction = "up"
    sync_exclude = ("alarm",)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["site", "event", "at"])]
        verbose_name_plural = "alarm journal"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.event} {self.from_state}->{self.to_state}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The alarm journal is append-only.")
        if self.alarm_id is not None and not self.tag_name:
            definition = self.alarm.definition
            self.tag_name, self.kind = definition.tag.name[:100], str(definition.kind)[:16]
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.tag_name} {self.kind}".strip()

    def delete(self, *args, **kwargs):
        raise PermissionError("The alarm journal is append-only.")


class AlarmFlood(models.Model):
    """Flood indicator per area (site): on above 10 new alarms in 10 minutes, off below 5."""

    site = models.OneToOneField("wells.Site", primary_key=True, on_delete=models.CASCADE, related_name="alarm_flood")
    active = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True)
    rate = models.PositiveIntegerField(default=0, help_text="New alarms in the last window at the last evaluation.")

    objects = ScopedManager()
    scope = FieldScope("site__field__code", site="site__code")
    rbac = rbac.READ_ONLY

    def __str__(self):
        return f"flood {'on' if self.active else 'off'} ({self.rate}/10 min)"


class AlarmNotificationRule(BaseModel):
    """Who hears about an alarm: by minimum priority, area (site or field) and role; in-app and optionally e-mail."""

    name = models.CharField(max_length=100)
    min_priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.HIGH)
    site = models.ForeignKey("wells.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    field = models.ForeignKey("wells.Field", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, default=rbac.SUPERVISOR,
                            choices=[(r, r) for r in rbac.ROLES if r != rbac.SCADA])
    enabled = models.BooleanField(default=True)

    rbac = {rbac.SUPERVISOR: rbac.READ}

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
