from rest_framework.routers import DefaultRouter

from apps.maintenance.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("equipment", views.EquipmentViewSet, basename="equipment")
router.register("work-orders", views.WorkOrderViewSet, basename="workorder")
router.register("work-order-parts", views.WorkOrderPartViewSet, basename="workorderpart")
router.register("pm-plans", views.PreventivePlanViewSet, basename="preventiveplan")

urlpatterns = router.urls
