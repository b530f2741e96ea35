from rest_framework.routers import DefaultRouter

from apps.wells.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("fields", views.FieldViewSet, basename="field")
router.register("sites", views.SiteViewSet, basename="site")
router.register("wells", views.WellViewSet, basename="well")
router.register("status-history", views.WellStatusChangeViewSet, basename="wellstatuschange")
router.register("wellbores", views.WellboreViewSet, basename="wellbore")
router.register("reservoirs", views.ReservoirViewSet, basename="reservoir")
router.register("completions", views.CompletionViewSet, basename="completion")
router.register("restrictions", views.CompletionRestrictionViewSet, basename="completionrestriction")
router.register("pvt-samples", views.PvtSampleViewSet, basename="pvtsample")
router.register("trajectories", views.TrajectoryViewSet, basename="trajectory")
router.register("survey-stations", views.SurveyStationViewSet, basename="surveystation")

urlpatterns = router.urls
