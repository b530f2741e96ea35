from rest_framework.routers import DefaultRouter

from apps.finance.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("accounts", views.AccountViewSet, basename="account")
router.register("cost-centers", views.CostCenterViewSet, basename="costcenter")
router.register("journal-entries", views.JournalEntryViewSet, basename="journalentry")
router.register("afes", views.AFEViewSet, basename="afe")
router.register("afe-lines", views.AFELineViewSet, basename="afeline")
router.register("afe-partners", views.AFEPartnerViewSet, basename="afepartner")
router.register("afe-supplements", views.AFESupplementViewSet, basename="afesupplement")
router.register("cost-entries", views.CostEntryViewSet, basename="costentry")
router.register("vendors", views.VendorViewSet, basename="vendor")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchaseorder")
router.register("invoices", views.InvoiceViewSet, basename="invoice")

urlpatterns = router.urls
