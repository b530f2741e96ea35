from django.contrib import admin

from apps.core.admin_base import ScopedAdmin
from apps.hr import models as m

RO = ScopedAdmin.readonly_fields


class CertificateInline(admin.TabularInline):
    model = m.Certificate
    extra = 0
    fields = ["certification_type", "number", "issued_on", "expires_on"]


class AssignmentInline(admin.TabularInline):
    model = m.CrewAssignment
    extra = 0
    fields = ["employee", "start_date", "end_date"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # assignments go through the certificate check (API/services)


@admin.register(m.Position)
class PositionAdmin(ScopedAdmin):
    list_display = ["code", "title", "hourly_rate"]
    search_fields = ["code", "title"]


@admin.register(m.RotationSchedule)
class RotationScheduleAdmin(ScopedAdmin):
    list_display = ["name", "days_on", "days_off"]
    search_fields = ["name"]


@admin.register(m.Employee)
class EmployeeAdmin(ScopedAdmin):
    list_display = ["employee_number", "last_name", "first_name", "site", "position", "rotation", "active"]
    search_fields = ["employee_number", "last_name", "first_name"]
    list_filter = ["active", "position", "rotation", "site__field"]
    inlines = [CertificateInline]


@admin.register(m.CertificationType)
class CertificationTypeAdmin(ScopedAdmin):
    list_display = ["code", "name", "validity_months"]
    search_fields = ["code", "name"]


@admin.register(m.Certificate)
class CertificateAdmin(ScopedAdmin):
    list_display = ["employee", "certification_type", "number", "issued_on", "expires_on", "notified_at"]
    search_fields = ["employee__last_name", "number"]
    list_filter = ["certification_type"]
    date_hierarchy = "expires_on"


@admin.register(m.Crew)
class CrewAdmin(ScopedAdmin):
    list_display = ["name", "site", "rig"]
    search_fields = ["name"]
    list_filter = ["site__field"]
    filter_horizontal = ["required_certifications"]
    inlines = [AssignmentInline]


@admin.register(m.RigCertificationRequirement)
class RigCertificationRequirementAdmin(ScopedAdmin):
    list_display = ["rig", "certification_type"]
    list_filter = ["certification_type"]


@admin.register(m.CrewAssignment)
class CrewAssignmentAdmin(ScopedAdmin):
    list_display = ["employee", "crew", "start_date", "end_date"]
    search_fields = ["employee__last_name", "crew__name"]
    list_filter = ["crew"]

    def has_add_permission(self, request):
        return False


@admin.register(m.Timesheet)
class TimesheetAdmin(ScopedAdmin):
    list_display = ["employee", "date", "hours", "overtime_hours", "work_order", "job_reference", "status", "cost"]
    search_fields = ["employee__last_name", "job_reference"]
    list_filter = ["status"]
    date_hierarchy = "date"
    readonly_fields = (*RO, "status", "approved_by", "approved_at", "cost")
