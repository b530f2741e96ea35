from django.urls import path
from rest_framework.routers import DefaultRouter

from scada.alarms.api.views import (
    AlarmDefinitionViewSet,
    AlarmJournalViewSet,
    AlarmKpiView,
    AlarmNotificationRuleViewSet,
    AlarmViewSet,
)

API_PREFIX = "scada/"  # /api/v1/scada/alarms/..., next to the rest of the SCADA API

router = DefaultRouter()
router.include_root_view = False
router.register("alarms", AlarmViewSet, basename="alarm")
router.register("alarm-journal", AlarmJournalViewSet, basename="alarm-journal")
router.register("alarm-definitions", AlarmDefinitionViewSet, basename="alarm-definition")
router.register("alarm-rules", AlarmNotificationRuleViewSet, basename="alarm-rule")

urlpatterns = [path("alarm-kpis/", AlarmKpiView.as_view(), name="alarm-kpis"), *router.urls]
