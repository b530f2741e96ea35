from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.wells.models import Field, Site


class FieldSerializer(ScopedModelSerializer):
    class Meta:
        model = Field
        fields = ["id", "code", "name", "country", "operator", "time_zone", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_time_zone(self, value):
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except Exception as exc:  # noqa: BLE001
            raise serializers.ValidationError(f"{value!r} is not a known IANA time zone.") from exc
        return value


class SiteSerializer(ScopedModelSerializer):
    field_code = serializers.CharField(source="field.code", read_only=True)

    class Meta:
        model = Site
        fields = ["id", "field", "field_code", "code", "name", "kind", "latitude", "longitude", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


from apps.wells.models import (  # noqa: E402
    Completion,
    CompletionRestriction,
    PvtSample,
    Reservoir,
    SurveyStation,
    Trajectory,
    Well,
    Wellbore,
    WellStatusChange,
)

AUDIT_RO = ["created_at", "updated_at"]


class WellSerializer(ScopedModelSerializer):
    site_code = serializers.CharField(source="site.code", read_only=True)
    field_code = serializers.CharField(source="site.field.code", read_only=True)
    status_reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                          help_text="Recorded in the status history when the status changes.")

    class Meta:
        model = Well
        fields = ["id", "site", "site_code", "field_code", "name", "uwi", "well_type", "status", "status_reason",
                  "surface_latitude", "surface_longitude", "datum_type", "datum_elevation_m", "ground_elevation_m",
                  "spud_date", "completion_date", "created_at", "updated_at"]
        read_only_fields = AUDIT_RO

    def save(self, **kwargs):
        reason = self.validated_data.pop("status_reason", "")
        instance = self.instance
        if instance is not None:
            instance._status_reason = reason
        obj = super().save(**kwargs)
        return obj


class WellStatusChangeSerializer(ScopedModelSerializer):
    class Meta:
        model = WellStatusChange
        fields = ["id", "well", "from_status", "to_status", "reason", "created_at", "created_by"]
        read_only_fields = fields


class WellboreSerializer(ScopedModelSerializer):
    class Meta:
        model = Wellbore
        fields = ["id", "well", "name", "parent", "status", "kickoff_md", "total_md", "total_tvd", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class ReservoirSerializer(ScopedModelSerializer):
    class Meta:
        model = Reservoir
        fields = ["id", "field", "name", "formation", "fluid_type", "top_tvd_m", "initial_pressure_kpa",
                  "temperature_c", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class CompletionRestrictionSerializer(ScopedModelSerializer):
    class Meta:
        model = CompletionRestriction
        fields = ["id", "completion", "kind", "description", "depth_md", "min_id_mm", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class CompletionSerializer(ScopedModelSerializer):
    restrictions = CompletionRestrictionSerializer(many=True, read_only=True)
    min_id_mm = serializers.SerializerMethodField()

    class Meta:
        model = Completion
        fields = ["id", "wellbore", "name", "reservoir", "tubing_od_mm", "tubing_id_mm", "tubing_shoe_md",
                  "installed_on", "active", "restrictions", "min_id_mm", *AUDIT_RO]
        read_only_fields = AUDIT_RO

    def get_min_id_mm(self, obj) -> float:
        return float(obj.smallest_restriction()[0])


class PvtSampleSerializer(ScopedModelSerializer):
    class Meta:
        model = PvtSample
        fields = ["id", "well", "reservoir", "sampled_on", "kind", "depth_md", "laboratory", "reservoir_pressure_kpa",
                  "reservoir_temperature_c", "bubble_point_kpa", "solution_gor_sm3_sm3", "oil_fvf",
                  "oil_api_gravity", "oil_viscosity_cp", "gas_specific_gravity", "notes", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class SurveyStationSerializer(ScopedModelSerializer):
    class Meta:
        model = SurveyStation
        fields = ["id", "trajectory", "md", "inclination", "azimuth", "tvd", "ns", "ew", "dls", *AUDIT_RO]
        read_only_fields = ["tvd", "ns", "ew", "dls", *AUDIT_RO]


class TrajectorySerializer(ScopedModelSerializer):
    class Meta:
        model = Trajectory
        fields = ["id", "wellbore", "name", "definitive", "survey_company", "azimuth_reference", "tie_on_md",
                  "tie_on_tvd", "tie_on_ns", "tie_on_ew", *AUDIT_RO]
        read_only_fields = AUDIT_RO
        validators = []  # the one-definitive rule is checked by the model's clean(), which names the field
