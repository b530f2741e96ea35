from django.urls import path

from apps.sync import views, views_offline

app_name = "sync"
urlpatterns = [
    path("", views.edges, name="edges"),
    path("sw.js", views_offline.service_worker, name="service-worker"),  # offline data entry (scope "/")
]
