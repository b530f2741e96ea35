from django.db import transaction
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import Conflict
from apps.maintenance import services
from apps.maintenance.api import serializers as s
from apps.maintenance.choices import WorkOrderStatus
from apps.maintenance.filters import EquipmentFilter, PreventivePlanFilter, WorkOrderFilter, WorkOrderPartFilter
from apps.maintenance.models import Equipment, PreventivePlan, WorkOrder, WorkOrderPart


class EquipmentViewSet(ScopedModelViewSet):
    queryset = Equipment.objects.select_related("site", "well", "parent")
    serializer_class = s.EquipmentSerializer
    filterset_class = EquipmentFilter
    search_fields = ["tag_number", "name", "manufacturer", "serial_number"]
    ordering_fields = ["tag_number", "name", "run_hours"]

    @action(detail=True, methods=["post"], rbac_action="change", url_path="run-hours")
    def run_hours(self, request, pk=None):
        """Record a run-hours reading; answers the preventive orders it made due."""
        ser = s.RunHoursSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        created = services.record_run_hours(self.get_object(), ser.validated_data["run_hours"],
                                            ser.validated_data.get("at"))
        return Response({"created": s.WorkOrderSerializer(created, many=True, context={"request": request}).data})


class WorkOrderViewSet(ScopedModelViewSet):
    """Transitions: POST .../plan/, start/, complete/, close/ (OPEN -> PLANNED -> IN_PROGRESS -> COMPLETED ->
    CLOSED). Only an OPEN order can be deleted."""

    queryset = WorkOrder.objects.select_related("equipment", "site")
    serializer_class = s.WorkOrderSerializer
    filterset_class = WorkOrderFilter
    search_fields = ["number", "title", "equipment__tag_number"]
    ordering_fields = ["created_at", "priority", "planned_start"]

    def _transition(self, func, *names):
        ser = s.TransitionSerializer(data=self.request.data)
        ser.is_valid(raise_exception=True)
        kwargs = {k: v for k, v in ser.validated_data.items() if k in names}
        wo = func(self.get_object(), self.request.user, **kwargs)
        return Response(self.get_serializer(wo).data)

    @action(detail=True, methods=["post"], rbac_action="change")
    def plan(self, request, pk=None):
        return self._transition(services.plan_work_order, "planned_start", "planned_end")

    @action(detail=True, methods=["post"], rbac_action="change")
    def start(self, request, pk=None):
        return self._transition(services.start_work_order, "at")

    @action(detail=True, methods=["post"], rbac_action="change")
    def complete(self, request, pk=None):
        return self._transition(services.complete_work_order, "at", "failure_mode", "failure_cause", "run_hours")

    @action(detail=True, methods=["post"], rbac_action="change")
    def close(self, request, pk=None):
        return self._transition(services.close_work_order)

    @action(detail=True, methods=["get"], rbac_action="view")
    def costs(self, request, pk=None):
        return Response(services.work_order_costs(self.get_object()))

    @action(detail=False, methods=["get"], rbac_action="view")
    def reliability(self, request):
        """MTBF / MTTR per equipment class from the closed corrective orders in the user's scope."""
        return Response(services.reliability_by_class(queryset=WorkOrder.objects.restrict(request.user, "view")))

    def perform_destroy(self, instance):
        if instance.status != WorkOrderStatus.OPEN:
            raise Conflict("Only an open work order can be deleted.")
        instance.delete()


class WorkOrderPartViewSet(ScopedModelViewSet):
    queryset = WorkOrderPart.objects.select_related("work_order", "item", "location")
    serializer_class = s.WorkOrderPartSerializer
    filterset_class = WorkOrderPartFilter

    def perform_create(self, serializer):
        d = serializer.validated_data
        with transaction.atomic():
            part = services.add_part(d["work_order"], d["item"], d["location"], d["quantity"])
            self._check_in_scope(part)
        serializer.instance = part

    def perform_destroy(self, instance):
        if instance.issued_quantity:
            raise Conflict("An issued part cannot be removed; return it to stock instead.")
        from apps.inventory.services import release

        with transaction.atomic():
            reservation = instance.reservation
            instance.delete()
            if reservation is not None and reservation.status == "active":
                release(reservation)

    @action(detail=True, methods=["post"], rbac_action="change")
    def issue(self, request, pk=None):
        ser = s.IssuePartSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        part = services.issue_part(self.get_object(), ser.validated_data.get("quantity"))
        return Response(self.get_serializer(part).data)


class PreventivePlanViewSet(ScopedModelViewSet):
    queryset = PreventivePlan.objects.select_related("equipment")
    serializer_class = s.PreventivePlanSerializer
    filterset_class = PreventivePlanFilter
    search_fields = ["name", "equipment__tag_number"]
