from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from scada import protocols, services
from scada.models import Device, Tag, TagTemplate, TagTemplateItem, WriteCommand


class DeviceSerializer(ScopedModelSerializer):
    site_code = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "site", "site_code", "name", "description", "protocol", "connection", "poll_interval_ms",
                  "stale_after_intervals", "enabled", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        protocol = attrs.get("protocol", getattr(self.instance, "protocol", None))
        connection = attrs.get("connection", getattr(self.instance, "connection", None))
        try:
            attrs["connection"] = protocols.validate_connection(protocol, connection)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"connection": exc.detail})
        return attrs


class TagSerializer(ScopedModelSerializer):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "key", "name", "description", "device", "device_name", "address", "data_type", "scaling",
                  "raw_low", "raw_high", "eng_low", "eng_high", "unit", "deadband", "deadband_mode",
                  "max_interval_s", "writable", "enabled", "well", "equipment", "template", "template_version",
                  "created_at", "updated_at"]
        read_only_fields = ["key", "template", "template_version", "created_at", "updated_at"]

    def validate(self, attrs):
        device = attrs.get("device", getattr(self.instance, "device", None))
        address = attrs.get("address", getattr(self.instance, "address", None))
        data_type = attrs.get("data_type", getattr(self.instance, "data_type", None))
        if device is not None:
            try:
                connection = protocols.validate_connection(device.protocol, device.connection)
            except serializers.ValidationError:
                connection = {}
            try:
                attrs["address"] = protocols.validate_address(device.protocol, address, connection, data_type)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"address": exc.detail})
        return attrs


class TagTemplateItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = TagTemplateItem
        fields = ["id", "suffix", "description", "address", "data_type", "scaling", "raw_low", "raw_high", "eng_low",
                  "eng_high", "unit", "deadband", "deadband_mode", "max_interval_s", "writable", "alarms"]
        read_only_fields = ["id"]


class TagTemplateSerializer(ScopedModelSerializer):
    """A template with its items, written in one request: ``items`` (when given) is the complete list, matched by
    suffix (new suffixes are created, missing ones deleted). The version goes up once per request that changes it."""

    items = TagTemplateItemSerializer(many=True, required=False)

    class Meta:
        model = TagTemplate
        fields = ["id", "name", "description", "protocol", "version", "items", "created_at", "updated_at"]
        read_only_fields = ["version", "created_at", "updated_at"]

    def validate(self, attrs):
        protocol = attrs.get("protocol", getattr(self.instance, "protocol", None))
        items = attrs.get("items")
        if items is not None:
            errors, seen = {}, set()
            for i, data in enumerate(items):
                problems = TagTemplateItem(**data).problems(protocol)
                if data["suffix"] in seen:
                    problems.setdefault("suffix", []).append(f"{data['suffix']} is listed twice.")
                seen.add(data["suffix"])
                if problems:
                    errors[str(i)] = problems
            if errors:
                raise serializers.ValidationError({"items": errors})
        elif self.instance is not None and protocol != self.instance.protocol:
            problems = self.instance.item_problems(protocol)
            if problems:
                raise serializers.ValidationError(problems)
        return attrs

    def create(self, validated_data):
        items = validated_data.pop("items", [])
        return services.save_template(None, validated_data, items)

    def update(self, instance, validated_data):
        items = validated_data.pop("items", None)
        return services.save_template(instance, validated_data, items)


class ApplyTemplateSerializer(serializers.Serializer):
    device = serializers.UUIDField(help_text="The device the tags are created on (in your scope).")
    well = serializers.UUIDField(required=False, allow_null=True, help_text="Well the tags are linked to ({well}).")
    prefix = serializers.CharField(max_length=60, help_text="Tag names are <prefix>.<suffix>, e.g. W05.")
    offset = serializers.IntegerField(min_value=0, max_value=65535, default=0,
                                      help_text="Added to integer Modbus addresses; {offset} in address strings.")


class ApplyResultSerializer(serializers.Serializer):
    template = serializers.UUIDField()
    version = serializers.IntegerField()
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    alarms_written = serializers.IntegerField()
    tags = TagSerializer(many=True)


class WriteCommandSerializer(ScopedModelSerializer):
    tag_name = serializers.CharField(source="tag.name", read_only=True)
    requested_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = WriteCommand
        fields = ["id", "tag", "tag_name", "value", "status", "reason", "completed_at", "requested_by",
                  "created_at", "updated_at"]
        read_only_fields = ["status", "reason", "completed_at", "created_at", "updated_at"]


class HistoryQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    max_points = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        from datetime import timedelta

        from django.conf import settings
        from django.utils import timezone

        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - timedelta(hours=1)
        if start >= end:
            raise serializers.ValidationError({"start": ["Must be before end."]})
        limit = settings.SCADA_HISTORY_MAX_POINTS
        max_points = attrs.get("max_points", 500)
        if max_points > limit:
            raise serializers.ValidationError({"max_points": [f"At most {limit}."]})
        return {"start": start, "end": end, "max_points": max_points, "raw": "max_points" not in attrs}


class CurrentValueSerializer(serializers.Serializer):
    """One row of /values (documentation of the response; the view builds rows with .values())."""

    tag = serializers.UUIDField()
    key = serializers.IntegerField(help_text="Compact historian key of the tag.")
    name = serializers.CharField()
    unit = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="None when the quality is Bad.")
    quality = serializers.ChoiceField(choices=["Good", "Uncertain", "Bad", "Stale"])
    ts = serializers.DateTimeField(allow_null=True, help_text="Source timestamp.")


class HistoryPointSerializer(serializers.Serializer):
    ts = serializers.DateTimeField()
    value = serializers.FloatField(required=False, allow_null=True, help_text="Raw rows only.")
    quality = serializers.IntegerField(required=False, help_text="Raw rows only (0 Good, 1 Uncertain, 2 Bad, 3 Stale).")
    min = serializers.FloatField(required=False, allow_null=True, help_text="Buckets only.")
    avg = serializers.FloatField(required=False, allow_null=True, help_text="Buckets only.")
    max = serializers.FloatField(required=False, allow_null=True, help_text="Buckets only.")
    count = serializers.IntegerField(required=False, help_text="Buckets only: values in the bucket.")


class HistorySerializer(serializers.Serializer):
    tag = serializers.CharField()
    unit = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    resolution = serializers.CharField(help_text='"raw" or the bucket width, e.g. "60s".')
    bucket_seconds = serializers.FloatField()
    points = HistoryPointSerializer(many=True)
