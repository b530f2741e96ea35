from django.urls import path

from scada.hmi import views

app_name = "hmi"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("site/<str:code>/", views.site, name="site"),
    path("trend/", views.trend, name="trend"),
]
