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
