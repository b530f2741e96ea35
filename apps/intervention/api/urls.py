from rest_framework.routers import DefaultRouter

from apps.intervention.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("jobs", views.InterventionJobViewSet, basename="interventionjob")
router.register("reels", views.CoiledTubingReelViewSet, basename="coiledtubingreel")
router.register("components", views.ToolComponentViewSet, basename="toolcomponent")
router.register("toolstrings", views.ToolstringViewSet, basename="toolstring")

urlpatterns = router.urls
