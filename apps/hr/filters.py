import django_filters

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


class PositionFilter(django_filters.FilterSet):
    class Meta:
        model = Position
        fields = ["code"]


class RotationScheduleFilter(django_filters.FilterSet):
    class Meta:
        model = RotationSchedule
        fields = ["name", "days_on"]


class EmployeeFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")
    field = django_filters.CharFilter(field_name="site__field__code")

    class Meta:
        model = Employee
        fields = ["site", "field", "position", "rotation", "active", "employee_number"]


class CertificationTypeFilter(django_filters.FilterSet):
    class Meta:
        model = CertificationType
        fields = ["code"]


class CertificateFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="certification_type__code")
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lte")
    expires_after = django_filters.DateFilter(field_name="expires_on", lookup_expr="gte")

    class Meta:
        model = Certificate
        fields = ["employee", "certification_type", "type", "expires_before", "expires_after"]


class CrewFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = Crew
        fields = ["site", "rig", "name"]


class RigCertificationRequirementFilter(django_filters.FilterSet):
    class Meta:
        model = RigCertificationRequirement
        fields = ["rig", "certification_type"]


class CrewAssignmentFilter(django_filters.FilterSet):
    active_on = django_filters.DateFilter(method="filter_active_on")

    class Meta:
        model = CrewAssignment
        fields = ["crew", "employee", "active_on"]

    def filter_active_on(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(start_date__lte=value).filter(Q(end_date__isnull=True) | Q(end_date__gte=value))


class TimesheetFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    site = django_filters.CharFilter(field_name="employee__site__code")

    class Meta:
        model = Timesheet
        fields = ["employee", "site", "status", "work_order", "job_reference", "date_from", "date_to"]
