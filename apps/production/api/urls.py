from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.production.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("meters", views.MeterViewSet, basename="meter")
router.register("meter-readings", views.MeterReadingViewSet, basename="meterreading")
router.register("daily", views.DailyWellProductionViewSet, basename="dailywellproduction")
router.register("well-tests", views.WellTestViewSet, basename="welltest")
router.register("allocation-runs", views.AllocationRunViewSet, basename="allocationrun")

urlpatterns = [path("units/me/", views.UnitPreferenceView.as_view(), name="unit-preference"), *router.urls]
