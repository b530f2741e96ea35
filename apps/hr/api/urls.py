from rest_framework.routers import DefaultRouter

from apps.hr.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("positions", views.PositionViewSet, basename="position")
router.register("rotations", views.RotationScheduleViewSet, basename="rotationschedule")
router.register("employees", views.EmployeeViewSet, basename="employee")
router.register("certification-types", views.CertificationTypeViewSet, basename="certificationtype")
router.register("certificates", views.CertificateViewSet, basename="certificate")
router.register("crews", views.CrewViewSet, basename="crew")
router.register("rig-requirements", views.RigCertificationRequirementViewSet, basename="rigcertificationrequirement")
router.register("crew-assignments", views.CrewAssignmentViewSet, basename="crewassignment")
router.register("timesheets", views.TimesheetViewSet, basename="timesheet")

urlpatterns = router.urls
