from rest_framework import serializers

from apps.core.api.base import ScopedModelSerializer
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal, AlarmNotificationRule


class AlarmDefinitionSerializer(ScopedModelSerializer):
    tag_name = serializers.CharField(source="tag.name", read_only=True)

    class Meta:
        model = AlarmDefinition
        fields = ["id", "tag", "tag_name", "kind", "setpoint", "deadband", "on_delay_s", "off_delay_s", "priority",
                  "message", "cause", "consequence", "operator_action", "enabled", "suppress_when_shut_in",
                  "create_work_order", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class AlarmSerializer(serializers.ModelSerializer):
    tag = serializers.CharField(source="definition.tag.name", read_only=True)
    kind = serializers.CharField(source="definition.kind", read_only=True)
    message = serializers.CharField(source="definition.message", read_only=True)
    operator_action = serializers.CharField(source="definition.operator_action", read_only=True)
    site = serializers.CharField(source="site.code", read_only=True)
    acked_by = serializers.CharField(source="acked_by.username", read_only=True, default=None)
    shelved_by = serializers.CharField(source="shelved_by.username", read_only=True, default=None)

    class Meta:
        model = Alarm
        fields = ["id", "definition", "tag", "kind", "message", "operator_action", "site", "priority", "state",
                  "active", "occurrence", "value", "raised_at", "cleared_at", "acked_at", "acked_by",
                  "shelved_until", "shelved_by", "shelve_reason", "service_reason", "updated_at"]
        read_only_fields = fields


class AlarmJournalSerializer(serializers.ModelSerializer):
    tag = serializers.CharField(source="tag_name", read_only=True)
    kind = serializers.CharField(read_only=True)
    site = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = AlarmJournal
        fields = ["id", "alarm", "tag", "kind", "site", "at", "event", "from_state", "to_state", "value",
                  "occurrence", "actor_name", "comment"]
        read_only_fields = fields


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ShelveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class AlarmNotificationRuleSerializer(ScopedModelSerializer):
    class Meta:
        model = AlarmNotificationRule
        fields = ["id", "name", "min_priority", "site", "field", "role", "enabled"]
