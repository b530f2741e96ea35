from rest_framework.routers import DefaultRouter

from apps.inventory.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("items", views.ItemViewSet, basename="item")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("locations", views.LocationViewSet, basename="location")
router.register("balances", views.StockBalanceViewSet, basename="stockbalance")
router.register("moves", views.StockMoveViewSet, basename="stockmove")
router.register("reservations", views.ReservationViewSet, basename="reservation")

urlpatterns = router.urls
