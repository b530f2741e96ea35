from rest_framework.routers import DefaultRouter

from apps.drilling.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("rigs", views.RigViewSet, basename="rig")
router.register("iadc-codes", views.IadcActivityViewSet, basename="iadcactivity")
router.register("reports", views.DrillingReportViewSet, basename="drillingreport")
router.register("time-log", views.TimeLogRowViewSet, basename="timelogrow")
router.register("bits", views.BitRecordViewSet, basename="bitrecord")
router.register("bha-runs", views.BhaRunViewSet, basename="bharun")
router.register("bha-components", views.BhaComponentViewSet, basename="bhacomponent")
router.register("mud-checks", views.MudRecordViewSet, basename="mudrecord")
router.register("mud-usage", views.MudUsageViewSet, basename="mudusage")

urlpatterns = router.urls
