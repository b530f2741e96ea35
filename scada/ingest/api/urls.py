from django.urls import path
from rest_framework.routers import DefaultRouter

from scada.ingest.api.views import DeadLetterViewSet, RealtimeIngestView

API_PREFIX = ""  # /api/v1/ingest/realtime and /api/v1/scada/dead-letters/

router = DefaultRouter()
router.include_root_view = False
router.register("scada/dead-letters", DeadLetterViewSet, basename="dead-letter")

urlpatterns = [path("ingest/realtime", RealtimeIngestView.as_view(), name="ingest-realtime"), *router.urls]
