from datetime import timedelta

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import Conflict
from scada.alarms import services
from scada.alarms.api.serializers import (
    AlarmDefinitionSerializer,
    AlarmJournalSerializer,
    AlarmNotificationRuleSerializer,
    AlarmSerializer,
    CommentSerializer,
    ReasonSerializer,
    ShelveSerializer,
)
from scada.alarms.filters import AlarmDefinitionFilter, AlarmFilter, AlarmJournalFilter
from scada.alarms.models import Alarm, AlarmDefinition, AlarmJournal, AlarmNotificationRule


class AlarmDefinitionViewSet(ScopedModelViewSet):
    queryset = AlarmDefinition.objects.select_related("tag")
    serializer_class = AlarmDefinitionSerializer
    filterset_class = AlarmDefinitionFilter
    search_fields = ["tag__name", "message"]
    ordering_fields = ["tag__name", "priority", "kind"]

    def perform_create(self, serializer):
        super().perform_create(serializer)
        services.ensure_alarm(serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        services.ensure_alarm(serializer.instance)


class AlarmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active and historical alarms in the user's scope, and the operator actions on them."""

    queryset = Alarm.objects.select_related("definition__tag", "site", "acked_by", "shelved_by")
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilter
    ordering_fields = ["raised_at", "priority", "state"]
    ordering = ["-raised_at"]
    rbac_action: str | None = None

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")

    def _act(self, fn, *args):
        try:
            alarm = fn(self.request.user, self.kwargs["pk"], *args)
        except Alarm.DoesNotExist as exc:
            raise NotFound("No such alarm.") from exc
        except services.InvalidTransition as exc:
            raise Conflict(str(exc)) from exc
        except PermissionDenied:
            raise
        except ValueError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(AlarmSerializer(self.get_queryset().get(pk=alarm.pk)).data)

    @extend_schema(request=CommentSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"], rbac_action="ack")
    def ack(self, request, pk=None):
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(services.acknowledge, body.validated_data.get("comment", ""))

    @extend_schema(request=ShelveSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"], rbac_action="shelve")
    def shelve(self, request, pk=None):
        body = ShelveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(services.shelve, body.validated_data["reason"],
                         timedelta(minutes=body.validated_data["duration_minutes"]))

    @extend_schema(request=None, responses=AlarmSerializer)
    @action(detail=True, methods=["post"], rbac_action="shelve")
    def unshelve(self, request, pk=None):
        return self._act(services.unshelve)

    @extend_schema(request=ReasonSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"], url_path="out-of-service", rbac_action="remove")
    def out_of_service(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(services.remove_from_service, body.validated_data["reason"])

    @extend_schema(request=None, responses=AlarmSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-service", rbac_action="remove")
    def return_to_service(self, request, pk=None):
        return self._act(services.return_to_service)


class AlarmJournalViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AlarmJournal.objects.select_related("site")
    serializer_class = AlarmJournalSerializer
    filterset_class = AlarmJournalFilter
    ordering_fields = ["at"]

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")


class AlarmNotificationRuleViewSet(ScopedModelViewSet):
    queryset = AlarmNotificationRule.objects.all()
    serializer_class = AlarmNotificationRuleSerializer


class AlarmKpiView(APIView):
    """Alarm KPIs per area: alarms per hour, standing, most frequent and chattering alarms, floods."""

    rbac_model = Alarm

    @extend_schema(parameters=[OpenApiParameter("site", str), OpenApiParameter("hours", int)], responses=dict)
    def get(self, request):
        try:
            hours = int(request.query_params.get("hours", 24))
        except ValueError as exc:
            raise ValidationError({"hours": ["A whole number of hours."]}) from exc
        if not 1 <= hours <= 24 * 31:
            raise ValidationError({"hours": ["Between 1 and 744."]})
        return Response(services.kpis(request.user, request.query_params.get("site"), hours))
