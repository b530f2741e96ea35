from rest_framework import serializers

from apps.core.models import AuditEvent, Notification


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id", "at", "actor", "actor_name", "channel", "ip", "action", "object_type", "object_id",
            "object_repr", "changes", "message", "field_code", "site_code", "request_id",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "link", "severity", "created_at", "read_at", "read"]
        read_only_fields = fields

    def get_read(self, obj) -> bool:
        return obj.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, help_text="Omit to mark all as read.")
