from django.db import transaction
from django.http import Http404
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import Conflict
from apps.hr import filters as f
from apps.hr import services
from apps.hr.api import serializers as s
from apps.hr.choices import TimesheetStatus
from apps.hr.models import (
    Certificate,
    CertificationType,
    Crew,
    CrewAssignment,
    Employee,
    Position,
    RigCertificationRequirement,
    RotationSchedule,
    Timesheet,
)


class PositionViewSet(ScopedModelViewSet):
    queryset = Position.objects.all()
    serializer_class = s.PositionSerializer
    filterset_class = f.PositionFilter
    search_fields = ["code", "title"]


class RotationScheduleViewSet(ScopedModelViewSet):
    queryset = RotationSchedule.objects.all()
    serializer_class = s.RotationScheduleSerializer
    filterset_class = f.RotationScheduleFilter


class EmployeeViewSet(ScopedModelViewSet):
    queryset = Employee.objects.select_related("site", "position", "rotation")
    serializer_class = s.EmployeeSerializer
    filterset_class = f.EmployeeFilter
    search_fields = ["employee_number", "first_name", "last_name"]
    ordering_fields = ["last_name", "employee_number"]

    @action(detail=True, methods=["get"], rbac_action="change", url_path="pay-period")
    def pay_period(self, request, pk=None):
        """?start=YYYY-MM-DD&end=YYYY-MM-DD: regular, overtime and rotation allowance from approved timesheets."""
        q = s.PeriodSerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        return Response(services.pay_period(self.get_object(), q.validated_data["start"], q.validated_data["end"]))


class CertificationTypeViewSet(ScopedModelViewSet):
    queryset = CertificationType.objects.all()
    serializer_class = s.CertificationTypeSerializer
    filterset_class = f.CertificationTypeFilter
    search_fields = ["code", "name"]


class CertificateViewSet(ScopedModelViewSet):
    queryset = Certificate.objects.select_related("employee", "certification_type")
    serializer_class = s.CertificateSerializer
    filterset_class = f.CertificateFilter
    search_fields = ["number", "employee__last_name"]
    ordering_fields = ["expires_on"]


class CrewViewSet(ScopedModelViewSet):
    """Changing a crew's rig checks every current member against the rig's required certificates."""

    queryset = Crew.objects.select_related("site", "rig").prefetch_related("required_certifications")
    serializer_class = s.CrewSerializer
    filterset_class = f.CrewFilter
    search_fields = ["name"]

    def perform_update(self, serializer):
        rig = serializer.validated_data.get("rig", serializer.instance.rig)
        with transaction.atomic():
            if "rig" in serializer.validated_data and rig is not None and rig != serializer.instance.rig:
                services.assign_crew_to_rig(serializer.instance, rig)
                serializer.instance.refresh_from_db()
            super().perform_update(serializer)


class RigCertificationRequirementViewSet(ScopedModelViewSet):
    queryset = RigCertificationRequirement.objects.select_related("rig", "certification_type")
    serializer_class = s.RigCertificationRequirementSerializer
    filterset_class = f.RigCertificationRequirementFilter


class CrewAssignmentViewSet(ScopedModelViewSet):
    """POST assigns through ``services.assign_to_crew`` (refused with the missing certificates named)."""

    queryset = CrewAssignment.objects.select_related("crew", "employee")
    serializer_class = s.CrewAssignmentSerializer
    filterset_class = f.CrewAssignmentFilter

    def perform_create(self, serializer):
        d = serializer.validated_data
        with transaction.atomic():
            assignment = services.assign_to_crew(d["employee"], d["crew"], d["start_date"], d.get("end_date"))
            self._check_in_scope(assignment)
        serializer.instance = assignment

    def perform_update(self, serializer):
        a = serializer.instance
        end = serializer.validated_data.get("end_date", a.end_date)
        gaps = services.certification_gaps(a.employee, services.required_certifications(a.crew), a.start_date, end)
        if gaps:
            raise ValidationError({"end_date": f"Not covered until then: {'; '.join(gaps)}."})
        super().perform_update(serializer)

    @action(detail=False, methods=["get"], rbac_action="view")
    def pob(self, request):
        """Personnel on board: ?site=<code>&date=YYYY-MM-DD."""
        from apps.wells.models import Site

        q = s.PobQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        site = Site.objects.restrict(request.user, "view").filter(code=q.validated_data["site"]).first()
        if site is None:
            raise Http404
        people = services.personnel_on_board(site, q.validated_data["date"])
        return Response({"site": site.code, "date": q.validated_data["date"], "count": len(people),
                         "people": [{"id": str(e.pk), "employee_number": e.employee_number,
                                     "name": f"{e.first_name} {e.last_name}",
                                     "position": e.position.title if e.position_id else ""} for e in people]})


class TimesheetViewSet(ScopedModelViewSet):
    """Drafts (and rejected sheets) are editable; POST .../submit/, approve/, reject/, reopen/."""

    queryset = Timesheet.objects.select_related("employee", "work_order")
    serializer_class = s.TimesheetSerializer
    filterset_class = f.TimesheetFilter
    search_fields = ["job_reference", "employee__last_name"]
    ordering_fields = ["date"]

    def _editable(self, ts):
        if ts.status not in (TimesheetStatus.DRAFT, TimesheetStatus.REJECTED):
            raise Conflict(f"A {ts.get_status_display().lower()} timesheet cannot be changed.")

    def perform_update(self, serializer):
        self._editable(serializer.instance)
        super().perform_update(serializer)

    def perform_destroy(self, instance):
        self._editable(instance)
        instance.delete()

    def _respond(self, ts):
        return Response(self.get_serializer(ts).data)

    @action(detail=True, methods=["post"], rbac_action="change")
    def submit(self, request, pk=None):
        return self._respond(services.submit_timesheet(self.get_object()))

    @action(detail=True, methods=["post"], rbac_action="approve")
    def approve(self, request, pk=None):
        return self._respond(services.approve_timesheet(self.get_object(), request.user))

    @action(detail=True, methods=["post"], rbac_action="approve")
    def reject(self, request, pk=None):
        r = s.ReasonSerializer(data=request.data)
        r.is_valid(raise_exception=True)
        return self._respond(services.reject_timesheet(self.get_object(), request.user, r.validated_data["reason"]))

    @action(detail=True, methods=["post"], rbac_action="change")
    def reopen(self, request, pk=None):
        return self._respond(services.reopen_timesheet(self.get_object()))
