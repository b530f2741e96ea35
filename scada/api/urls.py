from rest_framework.routers import DefaultRouter

from scada.api.views import DeviceViewSet, TagTemplateViewSet, TagViewSet, ValueViewSet, WriteCommandViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("devices", DeviceViewSet, basename="device")
router.register("tags", TagViewSet, basename="tag")
router.register("writes", WriteCommandViewSet, basename="writecommand")
router.register("tag-templates", TagTemplateViewSet, basename="tagtemplate")
router.register("values", ValueViewSet, basename="value")

urlpatterns = router.urls
