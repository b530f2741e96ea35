from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core import services
from apps.core.api.serializers import AuditEventSerializer, MarkReadSerializer, NotificationSerializer
from apps.core.filters import AuditEventFilter, NotificationFilter
from apps.core.models import AuditEvent, Notification


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail (admin and supervisors; supervisors see their fields/sites and their own actions)."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["at"]
    search_fields = ["object_repr", "message", "actor_name"]

    def get_queryset(self):
        return AuditEvent.objects.restrict(self.request.user, "view").select_related(None)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting user's own notifications."""

    rbac_action: str | None = None

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Notification.objects.restrict(self.request.user, "view")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = self.get_queryset().filter(read_at__isnull=True).count()
        return response

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"], rbac_action="change")
    def read(self, request, pk=None):
        notification = self.get_object()
        services.mark_read(request.user, [notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=MarkReadSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all", rbac_action="change")
    def read_all(self, request):
        payload = MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        count = services.mark_read(request.user, payload.validated_data.get("ids"))
        return Response({"marked_read": count})
