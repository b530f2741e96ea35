from rest_framework.routers import DefaultRouter

from apps.wells.api.views import FieldViewSet, SiteViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("fields", FieldViewSet, basename="field")
router.register("sites", SiteViewSet, basename="site")

urlpatterns = router.urls
