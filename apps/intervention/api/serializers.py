"""Intervention API serializers. The toolstring serializer speaks the reference contract's camelCase
(``wellId``, ``operationType``, ``tools``, ``metadata``, read-only ``synced``)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.intervention import configurator, services
from apps.intervention.choices import Gender, ToolType
from apps.intervention.models import CoiledTubingReel, InterventionJob, ToolComponent, Toolstring
from apps.sync.offline import check_client_id, client_id_field
from apps.wells.models import Well

AUDIT_RO = ["created_at", "updated_at"]


class CoiledTubingReelSerializer(ScopedModelSerializer):
    past_limit = serializers.BooleanField(read_only=True)

    class Meta:
        model = CoiledTubingReel
        fields = ["id", "serial_number", "site", "od_mm", "wall_thickness_mm", "grade", "length_m",
                  "running_length_m", "fatigue_pct", "retired", "past_limit", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class InterventionJobSerializer(ScopedModelSerializer):
    class Meta:
        model = InterventionJob
        fields = ["id", "well", "job_type", "status", "objective", "planned_start", "planned_end", "actual_start",
                  "actual_end", "crew", "contractor", "cost_reference", "reel", "fatigue_added_pct",
                  "running_length_m", "remarks", *AUDIT_RO]
        read_only_fields = ["status", "actual_start", "actual_end", "fatigue_added_pct", "running_length_m",
                            *AUDIT_RO]


class CompleteJobSerializer(serializers.Serializer):
    fatigue_added_pct = serializers.DecimalField(max_digits=5, decimal_places=2, required=False,
                                                 min_value=Decimal(0), max_value=Decimal(100))
    running_length_m = serializers.DecimalField(max_digits=8, decimal_places=1, required=False, min_value=Decimal(0))


class ToolComponentSerializer(ScopedModelSerializer):
    class Meta:
        model = ToolComponent
        fields = ["id", "code", "name", "tool_type", "od_mm", "fishing_neck_od_mm", "length_m", "weight_kg",
                  "top_connection", "top_gender", "bottom_connection", "bottom_gender", "rotating", "active",
                  *AUDIT_RO]
        read_only_fields = AUDIT_RO


class InlineToolSerializer(serializers.Serializer):
    """An inline component (not from the catalogue), camelCase like the rest of the contract."""

    name = serializers.CharField(max_length=120)
    toolType = serializers.ChoiceField(choices=ToolType.choices, source="tool_type")  # noqa: N815
    odMm = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal(1), source="od_mm")  # noqa: N815
    fishingNeckOdMm = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal(0),  # noqa: N815
                                               source="fishing_neck_od_mm", required=False, allow_null=True)
    lengthM = serializers.DecimalField(max_digits=6, decimal_places=3, min_value=Decimal(0),  # noqa: N815
                                       source="length_m")
    weightKg = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=Decimal(0),  # noqa: N815
                                        source="weight_kg")
    topConnection = serializers.CharField(max_length=40, source="top_connection", required=False,  # noqa: N815
                                          allow_blank=True, default="")
    topGender = serializers.ChoiceField(choices=Gender.choices, source="top_gender", required=False,  # noqa: N815
                                        allow_blank=True, default="")
    bottomConnection = serializers.CharField(max_length=40, source="bottom_connection",  # noqa: N815
                                             required=False, allow_blank=True, default="")
    bottomGender = serializers.ChoiceField(choices=Gender.choices, source="bottom_gender",  # noqa: N815
                                           required=False, allow_blank=True, default="")
    rotating = serializers.BooleanField(required=False, default=True)


REF_KEYS = ("componentId", "id", "code")


def spec_of(obj, component_id=None) -> configurator.ToolSpec:
    return configurator.ToolSpec(component_id=component_id, **{f: getattr(obj, f) for f in services.ITEM_FIELDS})


@extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}})
class ToolsField(serializers.Field):
    """``tools``: an ordered list (top first) of catalogue references (``{"componentId": uuid}`` or
    ``{"code": "RS-NR-158"}``, ``{"id": ...}`` as in the reference contract) or inline components."""

    default_error_messages = {"not_a_list": "Expected an ordered list of components."}

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        specs, errors = [], {}
        for index, entry in enumerate(data):
            if isinstance(entry, str):
                entry = {"componentId": entry}
            if not isinstance(entry, dict):
                errors[index] = {"non_field_errors": ["Expected an object."]}
                continue
            ref = next((entry[k] for k in REF_KEYS if entry.get(k)), None)
            component = None
            if ref is not None:
                try:
                    component = ToolComponent.objects.filter(pk=uuid.UUID(str(ref))).first()
                except ValueError:
                    component = ToolComponent.objects.filter(code=str(ref)).first()
            if component is not None:
                specs.append(spec_of(component, component_id=component.pk))
                continue
            inline = InlineToolSerializer(data=entry)
            if not inline.is_valid():
                if ref is not None and "name" not in entry:
                    errors[index] = {"componentId": [f"No catalogue component {ref!r}."]}
                else:
                    errors[index] = inline.errors
                continue
            specs.append(configurator.ToolSpec(**inline.validated_data))
        if errors:
            raise serializers.ValidationError(errors)
        return {"tool_specs": specs} if self.source == "*" else specs

    def to_representation(self, value):
        value = value.items if self.source == "*" else value
        return [
            {"position": item.position, "componentId": str(item.component_id) if item.component_id else None,
             "name": item.name, "toolType": item.tool_type, "odMm": float(item.od_mm),
             "fishingNeckOdMm": float(item.fishing_neck_od_mm) if item.fishing_neck_od_mm is not None else None,
             "lengthM": float(item.length_m), "weightKg": float(item.weight_kg),
             "topConnection": item.top_connection, "topGender": item.top_gender,
             "bottomConnection": item.bottom_connection, "bottomGender": item.bottom_gender,
             "rotating": item.rotating}
            for item in value.all()
        ]


class WellRefField(serializers.PrimaryKeyRelatedField):
    """A well by id, or by name/UWI (the reference contract's ``wellId: "W666"``)."""

    def to_internal_value(self, data):
        try:
            uuid.UUID(str(data))
        except ValueError:
            well = self.get_queryset().filter(name=str(data)).first() or self.get_queryset().filter(
                uwi=str(data)).first()
            if well is None:
                self.fail("does_not_exist", pk_value=data)
            return well
        return super().to_internal_value(data)


class ToolstringSerializer(ScopedModelSerializer):
    id = client_id_field()
    wellId = WellRefField(source="well", queryset=Well.objects.all())  # noqa: N815
    operationType = serializers.CharField(source="operation_type", max_length=60)  # noqa: N815
    jobId = serializers.PrimaryKeyRelatedField(source="job", queryset=InterventionJob.objects.all(),  # noqa: N815
                                               required=False, allow_null=True)
    tools = ToolsField(source="*", required=False)
    metadata = serializers.JSONField(required=False)
    wireSizeMm = serializers.DecimalField(source="wire_size_mm", max_digits=5, decimal_places=3,  # noqa: N815
                                          required=False, allow_null=True, min_value=Decimal("0.5"))
    whpKpa = serializers.DecimalField(source="whp_kpa", max_digits=9, decimal_places=1, required=False,  # noqa: N815
                                      allow_null=True, min_value=Decimal(0))
    lubricatorLengthM = serializers.DecimalField(source="lubricator_length_m", max_digits=6,  # noqa: N815
                                                 decimal_places=2, required=False, allow_null=True,
                                                 min_value=Decimal(0))
    synced = serializers.BooleanField(read_only=True)
    status = serializers.CharField(read_only=True)
    approvedAt = serializers.DateTimeField(source="approved_at", read_only=True)  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)  # noqa: N815
    check = serializers.SerializerMethodField()

    class Meta:
        model = Toolstring
        fields = ["id", "name", "wellId", "operationType", "jobId", "tools", "metadata", "wireSizeMm", "whpKpa",
                  "lubricatorLengthM", "synced", "status", "approvedAt", "createdAt", "updatedAt", "check"]

    def get_check(self, obj) -> dict:
        return services.check_toolstring(obj).as_dict()

    def validate_metadata(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object.")
        return value

    def validate_id(self, value):
        return check_client_id(self, value)

    def create(self, validated_data):
        tools = validated_data.pop("tool_specs", [])
        return services.save_toolstring(Toolstring(**validated_data), tools)

    def update(self, instance, validated_data):
        tools = validated_data.pop("tool_specs", None)
        validated_data.pop("id", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return services.save_toolstring(instance, tools)


class ToolstringCheckSerializer(serializers.Serializer):
    """An unsaved string for the builder page: same fields as a toolstring, nothing is stored."""

    wellId = WellRefField(source="well", queryset=Well.objects.all(), required=False,  # noqa: N815
                          allow_null=True)
    tools = ToolsField()
    wireSizeMm = serializers.DecimalField(source="wire_size_mm", max_digits=5, decimal_places=3,  # noqa: N815
                                          required=False, allow_null=True)
    whpKpa = serializers.DecimalField(source="whp_kpa", max_digits=9, decimal_places=1, required=False,  # noqa: N815
                                      allow_null=True)
    lubricatorLengthM = serializers.DecimalField(source="lubricator_length_m", max_digits=6,  # noqa: N815
                                                 decimal_places=2, required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["wellId"].queryset = Well.objects.restrict(request.user, "view")
        return fields


