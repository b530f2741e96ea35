from django.urls import path

from apps.wells import views

app_name = "wells"
urlpatterns = [
    path("fields/", views.FieldListView.as_view(), name="field-list"),
    path("fields/<uuid:pk>/", views.FieldDetailView.as_view(), name="field-detail"),
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/<uuid:pk>/", views.SiteDetailView.as_view(), name="site-detail"),
]
