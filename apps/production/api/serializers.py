from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from apps.production import units
from apps.production.models import (
    AllocationLine,
    AllocationRun,
    DailyWellProduction,
    Meter,
    MeterReading,
    UnitPreference,
    WellTest,
    unit_system_for,
)
from apps.sync.offline import check_client_id, client_id_field

AUDIT_RO = ["created_at", "updated_at"]
STD = ["std_temperature_c", "std_pressure_kpa"]


class DisplayUnitsMixin:
    """Adds ``display``: the record's quantities in the caller's unit system (``?units=field|metric``, else the
    user's preference, else PRODUCTION_DEFAULT_UNITS)."""

    display_fields: dict[str, str] = {}

    def unit_system(self) -> str:
        request = self.context.get("request")
        if request is None:
            return "field"
        cached = getattr(request, "_unit_system", None)
        if cached is None:
            wanted = request.query_params.get("units") if hasattr(request, "query_params") else None
            cached = wanted if wanted in units.SYSTEMS else unit_system_for(request.user)
            request._unit_system = cached
        return cached

    def get_display(self, obj) -> dict:
        values = {name: (getattr(obj, name), quantity) for name, quantity in self.display_fields.items()}
        return {"system": self.unit_system(), **units.display(values, self.unit_system())}


class MeterSerializer(ScopedModelSerializer):
    class Meta:
        model = Meter
        fields = ["id", "code", "name", "site", "kind", "phase", "meter_factor", "wells", *AUDIT_RO]
        read_only_fields = AUDIT_RO


class MeterReadingSerializer(ScopedModelSerializer):
    corrected_volume = serializers.DecimalField(max_digits=16, decimal_places=3, read_only=True)

    class Meta:
        model = MeterReading
        fields = ["id", "meter", "reading_date", "gross_volume", "corrected_volume", *STD, *AUDIT_RO]
        read_only_fields = AUDIT_RO


class DailyWellProductionSerializer(DisplayUnitsMixin, ScopedModelSerializer):
    id = client_id_field()
    downtime_hours = serializers.DecimalField(max_digits=4, decimal_places=2, read_only=True)
    display = serializers.SerializerMethodField()
    display_fields = {"oil_m3": "liquid_volume", "gas_sm3": "gas_volume", "water_m3": "liquid_volume",
                      "tubing_pressure_kpa": "pressure", "casing_pressure_kpa": "pressure",
                      "allocated_oil_m3": "liquid_volume", "std_temperature_c": "temperature",
                      "std_pressure_kpa": "pressure"}

    class Meta:
        model = DailyWellProduction
        fields = ["id", "well", "prod_date", "hours_on", "downtime_hours", "downtime_reason", "choke_64ths",
                  "tubing_pressure_kpa", "casing_pressure_kpa", "oil_m3", "gas_sm3", "water_m3", "allocated_oil_m3",
                  "allocated_gas_sm3", "allocated_water_m3", "remarks", *STD, "display", *AUDIT_RO]
        read_only_fields = ["allocated_oil_m3", "allocated_gas_sm3", "allocated_water_m3", *AUDIT_RO]

    def validate_id(self, value):
        return check_client_id(self, value)


class WellTestSerializer(DisplayUnitsMixin, ScopedModelSerializer):
    water_cut_pct = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True, allow_null=True)
    gor_sm3_m3 = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    display = serializers.SerializerMethodField()
    display_fields = {"oil_rate_m3d": "liquid_rate", "gas_rate_sm3d": "gas_rate", "water_rate_m3d": "liquid_rate",
                      "tubing_pressure_kpa": "pressure", "casing_pressure_kpa": "pressure",
                      "separator_pressure_kpa": "pressure"}

    class Meta:
        model = WellTest
        fields = ["id", "well", "test_date", "duration_hours", "choke_64ths", "oil_rate_m3d", "gas_rate_sm3d",
                  "water_rate_m3d", "water_cut_pct", "gor_sm3_m3", "tubing_pressure_kpa", "casing_pressure_kpa",
                  "separator_pressure_kpa", "status", "review_note", *STD, "display", *AUDIT_RO]
        read_only_fields = ["status", "review_note", *AUDIT_RO]


class ReviewSerializer(serializers.Serializer):
    validated = serializers.BooleanField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AllocationLineSerializer(ScopedModelSerializer):
    well_name = serializers.CharField(source="well.name", read_only=True)

    class Meta:
        model = AllocationLine
        fields = ["id", "well", "well_name", "well_test", "test_rate", "hours_on", "theoretical_volume",
                  "allocated_volume", "status", "note"]
        read_only_fields = fields


class AllocationRunSerializer(ScopedModelSerializer):
    lines = AllocationLineSerializer(many=True, read_only=True)

    class Meta:
        model = AllocationRun
        fields = ["id", "meter", "period_start", "period_end", "measured_volume", "theoretical_volume",
                  "allocation_factor", "complete", "issues", "lines", *AUDIT_RO]
        read_only_fields = ["measured_volume", "theoretical_volume", "allocation_factor", "complete", "issues",
                            *AUDIT_RO]
        validators = []  # a rerun of the same meter and period is allowed (it replaces the run)


class UnitPreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnitPreference
        fields = ["system"]
