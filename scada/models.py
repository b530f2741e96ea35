"""SCADA configuration (devices, tags, setpoint writes) and telemetry (current values, the historian).

Configuration models are BaseModels: UUID keys, audit, field/site scope through the device's site.
Telemetry is narrow and hot: ``CurrentValue`` (one row per tag) and ``HistorianSample`` (ts, integer tag key, value,
quality) are plain tables, never audited. The historian table is created by migration 0002 for the database found
at migrate time (TimescaleDB hypertable, PostgreSQL daily range partitions, or a plain SQLite table): see
scada/historian.py.
"""

from __future__ import annotations

import contextlib
import math
import re
from contextvars import ContextVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DRFValidationError

from apps.core import rbac
from apps.core.models import BaseModel, ScopedManager
from apps.core.permissions import FieldScope
from scada import protocols
from scada.alarms.choices import Priority
from scada.choices import (
    MODBUS_PROTOCOLS,
    DataType,
    DeadbandMode,
    Protocol,
    Quality,
    RegisterType,
    Scaling,
    WriteStatus,
)

CONFIG_POLICY = {**rbac.SUPERVISOR_WRITES, rbac.SCADA: rbac.READ}
TELEMETRY_POLICY = {**rbac.READ_ONLY, rbac.SCADA: rbac.READ}

tag_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$", "Use letters, digits, '.', '_' or '-' (e.g. W01.THP).")


class Device(BaseModel):
    """A data source: an RTU/PLC (Modbus TCP/RTU), an OPC-UA server, an MQTT edge node, an HTTP or CSV feed.

    ``connection`` holds the protocol's settings, validated by scada.protocols (host, port, unit id, timeouts, word
    order and 0/1-based addressing for Modbus; endpoint and security mode for OPC-UA; topic prefix for MQTT).
    """

    site = models.ForeignKey("wells.Site", on_delete=models.PROTECT, related_name="scada_devices")
    name = models.CharField(max_length=64, unique=True, validators=[tag_name_validator], help_text="e.g. RTU-1")
    description = models.CharField(max_length=200, blank=True)
    protocol = models.CharField(max_length=16, choices=Protocol.choices)
    connection = models.JSONField(default=dict, blank=True, help_text="Protocol settings (see docs/scada.md).")
    poll_interval_ms = models.PositiveIntegerField(
        default=1000, validators=[MinValueValidator(50), MaxValueValidator(3_600_000)],
        help_text="Poll period (Modbus, OPC-UA sampling) or expected publish period (MQTT, HTTP, CSV).")
    stale_after_intervals = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="A tag not updated for this many intervals turns Stale.")
    enabled = models.BooleanField(default=True)

    scope = FieldScope("site__field__code", site="site__code")
    rbac = CONFIG_POLICY
    audit_exclude = ()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["protocol", "enabled"])]

    def __str__(self):
        return self.name

    def settings(self) -> dict:
        """The validated connection settings with defaults (raises DRF ValidationError on a bad configuration)."""
        return protocols.validate_connection(self.protocol, self.connection)

    def clean(self):
        super().clean()
        try:
            self.connection = protocols.validate_connection(self.protocol, self.connection)
        except DRFValidationError as exc:
            raise ValidationError({"connection": protocols.flat_errors(exc.detail)})

    @property
    def is_modbus(self) -> bool:
        return self.protocol in MODBUS_PROTOCOLS


TAG_KEY_LOCK = 0x5CADA7A6  # pg_advisory_xact_lock key of the tag-key allocator


class Tag(BaseModel):
    """A point: one value of one device, with its address, scaling, deadband and links to a well or equipment.

    ``key`` is a compact integer (assigned on creation, never reused) that the historian and the sample stream use
    instead of the UUID. Scaling: ``linear`` maps raw_low..raw_high to eng_low..eng_high; ``ma_4_20`` reads a loop
    current as raw counts (raw_low at 4 mA, raw_high at 20 mA), flags NE43 faults (< 3.6 mA or > 21 mA) as Bad and maps
    4..20 mA to eng_low..eng_high (value = LRV + (mA - 4) / 16 x span).
    """

    key = models.PositiveIntegerField(unique=True, editable=False, help_text="Compact historian key.")
    name = models.CharField(max_length=100, unique=True, validators=[tag_name_validator])
    description = models.CharField(max_length=200, blank=True)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="tags")
    address = models.JSONField(
        default=dict, blank=True,
        help_text="Modbus {register_type, address}; OPC-UA {node_id}; MQTT/HTTP {key}; CSV {column}.")
    data_type = models.CharField(max_length=8, choices=DataType.choices, default=DataType.FLOAT32)
    scaling = models.CharField(max_length=8, choices=Scaling.choices, default=Scaling.NONE)
    raw_low = models.FloatField(null=True, blank=True)
    raw_high = models.FloatField(null=True, blank=True)
    eng_low = models.FloatField(null=True, blank=True, help_text="Lower range value (LRV), engineering units.")
    eng_high = models.FloatField(null=True, blank=True, help_text="Upper range value (URV), engineering units.")
    unit = models.CharField(max_length=16, blank=True, help_text="Engineering unit, e.g. bar, degC, A, Hz, %.")
    deadband = models.FloatField(default=0.0, validators=[MinValueValidator(0)])
    deadband_mode = models.CharField(max_length=8, choices=DeadbandMode.choices, default=DeadbandMode.ABSOLUTE)
    max_interval_s = models.PositiveIntegerField(
        default=900, validators=[MinValueValidator(1)],
        help_text="A historian record is written at least this often even without change.")
    writable = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    well = models.ForeignKey("wells.Well", null=True, blank=True, on_delete=models.SET_NULL, related_name="scada_tags")
    equipment = models.ForeignKey("maintenance.Equipment", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="scada_tags")
    template = models.ForeignKey(
        "TagTemplate", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="tags",
        help_text="The tag template that created this tag (scada.services.apply_template); re-applying a newer "
                  "version updates only tags it created.")
    template_version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    scope = FieldScope("device__site__field__code", site="device__site__code")
    rbac = CONFIG_POLICY

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["device", "enabled"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.scaling == Scaling.MA_4_20:
            self.raw_low = 4000.0 if self.raw_low is None else self.raw_low
            self.raw_high = 20000.0 if self.raw_high is None else self.raw_high
        if self.key is None:
            with transaction.atomic():
                # Serialise key allocation until this transaction ends: a row lock on the current maximum does not
                # (a second creator waiting on it would read the same maximum and collide on the unique key).
                db = transaction.get_connection(kwargs.get("using") or "default")
                if db.vendor == "postgresql":
                    with db.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TAG_KEY_LOCK])
                last = Tag.objects.order_by("-key").values_list("key", flat=True).first()
                self.key = (last or 0) + 1
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)

    # -- validation ---------------------------------------------------------------------------------------------
    def clean(self):
        super().clean()
        errors: dict[str, list[str]] = {}
        device = self.device if self.device_id else None
        if device is not None:
            try:
                connection = protocols.validate_connection(device.protocol, device.connection)
            except DRFValidationError:
                connection = {}
            try:
                self.address = protocols.validate_address(device.protocol, self.address, connection, self.data_type)
            except DRFValidationError as exc:
                errors["address"] = protocols.flat_errors(exc.detail)
            if self.writable and device.is_modbus and isinstance(self.address, dict):
                if self.address.get("register_type") not in (RegisterType.COIL, RegisterType.HOLDING):
                    errors["writable"] = ["Only coils and holding registers can be written."]
            for link in ("well", "equipment"):
                obj = getattr(self, link) if getattr(self, f"{link}_id") else None
                if obj is not None and obj.site_id != device.site_id:
                    errors[link] = [f"The {link} is on another site than the device."]
        if self.scaling != Scaling.NONE:
            for name in ("raw_low", "raw_high", "eng_low", "eng_high"):
                if getattr(self, name) is None and not (self.scaling == Scaling.MA_4_20 and name.startswith("raw")):
                    errors.setdefault(name, []).append("Required by this scaling.")
            if self.data_type == DataType.BOOL:
                errors.setdefault("scaling", []).append("A bool tag is not scaled.")
        if self.scaling == Scaling.MA_4_20:
            self.raw_low = 4000.0 if self.raw_low is None else self.raw_low
            self.raw_high = 20000.0 if self.raw_high is None else self.raw_high
        if self.raw_low is not None and self.raw_high is not None and self.raw_low == self.raw_high:
            errors.setdefault("raw_high", []).append("Must differ from raw_low.")
        if self.eng_low is not None and self.eng_high is not None and self.eng_high <= self.eng_low:
            errors.setdefault("eng_high", []).append("Must be above eng_low.")
        if self.deadband_mode == DeadbandMode.PERCENT:
            if self.eng_low is None or self.eng_high is None:
                errors.setdefault("deadband_mode", []).append("A percent deadband needs eng_low and eng_high.")
            if self.deadband > 100:
                errors.setdefault("deadband", []).append("At most 100 %.")
        if errors:
            raise ValidationError(errors)

    # -- runtime helpers ----------------------------------------------------------------------------------------
    def deadband_abs(self) -> float:
        if self.deadband_mode == DeadbandMode.PERCENT and self.eng_low is not None and self.eng_high is not None:
            return self.deadband / 100.0 * (self.eng_high - self.eng_low)
        return self.deadband

    def check_range(self, value: float) -> str | None:
        """Why ``value`` may not be written to this tag, or None."""
        if value is None or not math.isfinite(value):
            return "The value must be a finite number."
        if self.data_type == DataType.BOOL and value not in (0, 1):
            return "A bool tag takes 0 or 1."
        if self.eng_low is not None and value < self.eng_low:
            return f"Below the range of {self.name} (minimum {self.eng_low:g})."
        if self.eng_high is not None and value > self.eng_high:
            return f"Above the range of {self.name} (maximum {self.eng_high:g})."
        return None


class WriteCommand(BaseModel):
    """A queued setpoint write: PENDING -> DONE | FAILED (with the reason).

    Operators and above create it (the value is range-checked first); the gateway sends it (FC5 for a coil, FC6 for
    one register, FC16 for 32/64-bit values) and marks the outcome through scada.services.complete_write(). Both steps
    are audited (create by the user; the transition by the gateway).
    """

    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="writes")
    value = models.FloatField(help_text="Requested value in engineering units.")
    status = models.CharField(max_length=8, choices=WriteStatus.choices, default=WriteStatus.PENDING, editable=False)
    reason = models.CharField(max_length=300, blank=True, editable=False, help_text="Why it failed.")
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    scope = FieldScope("tag__device__site__field__code", site="tag__device__site__code")
    rbac = {**rbac.OPERATOR_WRITES, rbac.SCADA: ("view", "change")}

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.tag_id} := {self.value} ({self.status})"

    def clean(self):
        super().clean()
        if not self.tag_id:
            return
        if not self.tag.writable:
            raise ValidationError({"tag": [f"{self.tag.name} is not writable."]})
        problem = self.tag.check_range(self.value)
        if problem:
            raise ValidationError({"value": [problem]})


class CurrentValue(models.Model):
    """The latest value, quality and timestamp of each tag (written by the gateway, read by /values and the HMI)."""

    tag = models.OneToOneField(Tag, primary_key=True, on_delete=models.CASCADE, related_name="current")
    tag_key = models.PositiveIntegerField(unique=True)
    value = models.FloatField(null=True, blank=True)
    quality = models.SmallIntegerField(choices=Quality.choices, default=Quality.BAD)
    ts = models.DateTimeField(null=True, blank=True, help_text="Source timestamp of the value.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope = FieldScope("tag__device__site__field__code", site="tag__device__site__code")
    rbac = TELEMETRY_POLICY

    class Meta:
        ordering = ["tag_key"]

    def __str__(self):
        return f"{self.tag_id}={self.value} ({self.get_quality_display()})"


class HistorianSample(models.Model):
    """One historian row. The physical table (``scada_historian``) is created per database by migration 0002."""

    pk = models.CompositePrimaryKey("tag_key", "ts")
    ts = models.DateTimeField()
    tag_key = models.IntegerField()
    value = models.FloatField(null=True)
    quality = models.SmallIntegerField(choices=Quality.choices, default=Quality.GOOD)

    objects = ScopedManager()
    scope = None
    rbac = TELEMETRY_POLICY

    class Meta:
        managed = False
        db_table = "scada_historian"

    def __str__(self):
        return f"{self.tag_key}@{self.ts}={self.value}"


# -- Tag templates (UDT / device profile) ------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("prefix", "well", "offset", "suffix")
PLACEHOLDER_HELP = "{prefix}, {well}, {offset} or {suffix}"
suffix_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$", "Use letters, digits, '_' or '-' (e.g. THP, ESP_AMPS).")
LIMIT_KINDS = ("HH", "H", "L", "LL")
DEFAULT_LIMIT_PRIORITY = {"HH": "high", "H": "medium", "L": "medium", "LL": "high"}
_EDITING: ContextVar[dict | None] = ContextVar("scada_tag_template_editing", default=None)


def substitute(value, values: dict):
    """``value`` (a JSON address pattern) with ``{prefix}``/``{well}``/``{offset}``/``{suffix}`` replaced in its
    strings and ``offset`` added to an integer Modbus ``address``. Raises ValueError naming an unknown placeholder
    or a missing value (no str.format: a pattern cannot reach attributes)."""
    if isinstance(value, dict):
        return {k: (v + values["offset"] if k == "address" and type(v) is int else substitute(v, values))
                for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if not isinstance(value, str):
        return value

    def one(match):
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise ValueError(f"Unknown placeholder {{{name}}}: use {PLACEHOLDER_HELP}.")
        if values.get(name) in (None, ""):
            raise ValueError(f"{{{name}}} needs a value ({'a well' if name == 'well' else name}).")
        return str(values[name])

    return PLACEHOLDER.sub(one, value)


class AlarmLimitSerializer(serializers.Serializer):
    """One alarm limit of a template item; applying the template creates an AlarmDefinition from it."""

    kind = serializers.ChoiceField(choices=LIMIT_KINDS)
    setpoint = serializers.FloatField()
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    deadband = serializers.FloatField(min_value=0, default=0.0)
    on_delay_s = serializers.IntegerField(min_value=0, max_value=86400, default=0)
    message = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    operator_action = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected an object such as "
                                                                    '{"kind": "HH", "setpoint": 90}.']})
        unknown = sorted(set(data) - set(self.fields))
        result = super().to_internal_value(data)
        if unknown:
            raise serializers.ValidationError({key: ["Unknown setting."] for key in unknown})
        result.setdefault("priority", DEFAULT_LIMIT_PRIORITY[result["kind"]])
        if not math.isfinite(result["setpoint"]):
            raise serializers.ValidationError({"setpoint": ["Must be a finite number."]})
        return result


class TagTemplate(BaseModel):
    """A tag configuration template ("UDT", "device profile"): the tags of one kind of well or equipment for one
    protocol family, applied to a device with a prefix to create ``<prefix>.<suffix>`` tags
    (scada.services.apply_template). ``version`` goes up by one with every change to the template or its items
    (one bump per API request / admin save); a tag records the template and version it came from.
    Authored at the hub and pulled by the edges."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    protocol = models.CharField(max_length=16, choices=Protocol.choices,
                                help_text="Protocol whose address format the items use (Modbus TCP and RTU share one).")
    version = models.PositiveIntegerField(default=1, editable=False)

    rbac = {rbac.SUPERVISOR: ("view", "apply")}
    sync_direction = "down"  # apps.sync: master data authored at the hub (issue 8); edges apply it to their devices

    class Meta:
        ordering = ["name"]
        permissions = [("apply_tagtemplate", "Can apply tag templates to devices")]

    def __str__(self):
        return f"{self.name} v{self.version}"

    CONTENT = ("name", "description", "protocol")

    def save(self, *args, **kwargs):
        before = getattr(self, "_audit_snapshot", None)
        if not self._state.adding and before is not None and any(
                before.get(f) != getattr(self, f) for f in self.CONTENT):
            pending = _EDITING.get()
            state = pending.get(self.pk, False) if pending is not None else False
            if state is not None and state != "bumped":  # this save carries the one bump of an editing() block
                self.version += 1
                if pending is not None and self.pk in pending:
                    pending[self.pk] = "bumped"
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)

    def bump_version(self) -> None:
        """Version + 1 (read under a row lock, so two concurrent edits give two versions)."""
        fresh = TagTemplate.objects.select_for_update().get(pk=self.pk)
        fresh.version += 1
        fresh.save(update_fields=["version"])
        self.version = fresh.version

    @contextlib.contextmanager
    def editing(self, bump: bool = True):
        """Changes to this template and its items inside the block bump the version once (with the template's own
        save if it changed, else at the end; ``bump=False`` for a template created in the same block: it stays at
        version 1). One transaction."""
        outer = _EDITING.get()
        if outer is not None and self.pk in outer:
            yield self
            return
        pending = {**(outer or {}), self.pk: None if not bump else False}
        with transaction.atomic():
            token = _EDITING.set(pending)
            try:
                yield self
            finally:
                _EDITING.reset(token)
            if pending[self.pk] is True:
                self.bump_version()

    def item_problems(self, protocol: str | None = None) -> dict[str, list[str]]:
        """{"items.<suffix>.<field>": [messages]} of the stored items checked against ``protocol`` (default: the
        template's): a protocol change must keep every item valid."""
        errors = {}
        for item in self.items.all():
            for field, messages in item.problems(protocol or self.protocol).items():
                errors[f"items.{item.suffix}.{field}"] = messages
        return errors


def _mark_edited(template_id) -> bool:
    """Inside ``TagTemplate.editing()``: note the change for the single bump at the end and answer True."""
    pending = _EDITING.get()
    if pending is None or template_id not in pending:
        return False
    if pending[template_id] is False:
        pending[template_id] = True
    return True


class TagTemplateItem(BaseModel):
    """One tag of a template: ``suffix`` names it (``<prefix>.<suffix>``), the rest is the Tag's configuration.

    ``address`` is the protocol's tag address with placeholders: strings may use ``{prefix}``, ``{well}`` (the well's
    name), ``{offset}`` and ``{suffix}`` (OPC-UA ``{"node_id": "ns=2;s={prefix}.THP"}``, MQTT ``{"key":
    "{well}/thp"}``); an integer Modbus ``address`` is relative: the apply offset is added (base + offset, e.g. 20
    registers per well). ``alarms`` lists HH/H/L/LL limits (AlarmLimitSerializer) that become AlarmDefinitions.
    """

    template = models.ForeignKey(TagTemplate, on_delete=models.CASCADE, related_name="items")
    suffix = models.CharField(max_length=40, validators=[suffix_validator])
    description = models.CharField(max_length=200, blank=True)
    address = models.JSONField(default=dict, blank=True, help_text="Address pattern (see the model docstring).")
    data_type = models.CharField(max_length=8, choices=DataType.choices, default=DataType.FLOAT32)
    scaling = models.CharField(max_length=8, choices=Scaling.choices, default=Scaling.NONE)
    raw_low = models.FloatField(null=True, blank=True)
    raw_high = models.FloatField(null=True, blank=True)
    eng_low = models.FloatField(null=True, blank=True)
    eng_high = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    deadband = models.FloatField(default=0.0, validators=[MinValueValidator(0)])
    deadband_mode = models.CharField(max_length=8, choices=DeadbandMode.choices, default=DeadbandMode.ABSOLUTE)
    max_interval_s = models.PositiveIntegerField(default=900, validators=[MinValueValidator(1)])
    writable = models.BooleanField(default=False)
    alarms = models.JSONField(default=list, blank=True,
                              help_text='HH/H/L/LL limits: [{"kind": "HH", "setpoint": 90, "priority": "high"}].')

    rbac = {rbac.SUPERVISOR: rbac.READ}
    sync_direction = "down"  # apps.sync: travels with its template (master data authored at the hub)

    TAG_FIELDS = ("data_type", "scaling", "raw_low", "raw_high", "eng_low", "eng_high", "unit", "deadband",
                  "deadband_mode", "max_interval_s", "writable")

    class Meta:
        ordering = ["template", "suffix"]
        constraints = [models.UniqueConstraint(fields=["template", "suffix"], name="uniq_suffix_per_tag_template")]

    def __str__(self):
        return f"{self.template.name if self.template_id else '?'}: {self.suffix}"

    def tag_values(self) -> dict:
        return {f: getattr(self, f) for f in self.TAG_FIELDS}

    def problems(self, protocol: str) -> dict[str, list[str]]:
        """{field: [messages]} of everything wrong with this item for ``protocol`` (empty when valid): the address
        pattern substituted with sample values and validated by scada.protocols, the Tag's own range/scaling/deadband
        rules, the alarm limits."""
        errors: dict[str, list[str]] = {}
        probe = Tag(name="P.X", **self.tag_values())
        try:
            probe.clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            address = substitute(self.address, {"prefix": "P", "well": "W", "offset": 0, "suffix": self.suffix})
        except ValueError as exc:
            errors["address"] = [str(exc)]
        else:
            try:
                address = protocols.validate_address(protocol, address, None, self.data_type)
            except DRFValidationError as exc:
                for key, messages in _flat_detail(exc.detail, "address").items():
                    errors.setdefault(key, []).extend(messages)
            else:
                if (self.writable and protocol in MODBUS_PROTOCOLS
                        and address.get("register_type") not in (RegisterType.COIL, RegisterType.HOLDING)):
                    errors.setdefault("writable", []).append("Only coils and holding registers can be written.")
        errors.update(self._alarm_problems())
        return errors

    def limits(self) -> list[dict]:
        """The validated alarm limits (defaults filled in)."""
        result = []
        for limit in self.alarms or []:
            serializer = AlarmLimitSerializer(data=limit)
            serializer.is_valid(raise_exception=True)
            result.append(dict(serializer.validated_data))
        return result

    def _alarm_problems(self) -> dict[str, list[str]]:
        if not isinstance(self.alarms, list):
            return {"alarms": ["Expected a list of limits."]}
        errors: dict[str, list[str]] = {}
        seen: dict[str, float] = {}
        for i, limit in enumerate(self.alarms):
            serializer = AlarmLimitSerializer(data=limit)
            if not serializer.is_valid():
                errors.update(_flat_detail(serializer.errors, f"alarms.{i}"))
                continue
            kind, setpoint = serializer.validated_data["kind"], serializer.validated_data["setpoint"]
            if kind in seen:
                errors.setdefault(f"alarms.{i}.kind", []).append(f"{kind} is listed twice.")
            seen[kind] = setpoint
            if self.data_type == DataType.BOOL:
                errors.setdefault(f"alarms.{i}.kind", []).append("A bool tag has no limit alarms.")
            elif ((self.eng_low is not None and setpoint < self.eng_low)
                  or (self.eng_high is not None and setpoint > self.eng_high)):
                errors.setdefault(f"alarms.{i}.setpoint", []).append("Outside the engineering range.")
        order = [k for k in ("LL", "L", "H", "HH") if k in seen]
        if not errors and any(seen[a] >= seen[b] for a, b in zip(order, order[1:], strict=False)):
            errors["alarms"] = ["Limits must rise in the order LL < L < H < HH."]
        return errors

    def clean(self):
        super().clean()
        if self.template_id:
            errors = self.problems(self.template.protocol)
            if errors:
                raise ValidationError(errors)

    def _content_changed(self) -> bool:
        from apps.core.audit import snapshot

        before = getattr(self, "_audit_snapshot", None)
        return self._state.adding or before is None or before != snapshot(self)

    def save(self, *args, **kwargs):
        changed = self._content_changed()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if changed and not _mark_edited(self.template_id):
                TagTemplate(pk=self.template_id).bump_version()

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            result = super().delete(*args, **kwargs)
            if not _mark_edited(self.template_id):
                TagTemplate(pk=self.template_id).bump_version()
            return result


def _flat_detail(detail, prefix: str) -> dict[str, list[str]]:
    """DRF error detail -> {"address.register_type": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = prefix if key == "non_field_errors" else f"{prefix}.{key}"
            for k, v in _flat_detail(value, sub).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        for value in detail:
            for k, v in _flat_detail(value, prefix).items():
                out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix, []).append(str(detail))
    return out
