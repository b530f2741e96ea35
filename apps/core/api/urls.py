from rest_framework.routers import DefaultRouter

from apps.core.api.views import AuditEventViewSet, NotificationViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("audit", AuditEventViewSet, basename="audit")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
