from django.urls import path

from scada.alarms import views

app_name = "alarms"
urlpatterns = [
    path("", views.summary, name="summary"),
    path("ack-page/", views.ack_page, name="ack-page"),
    path("<uuid:pk>/<slug:verb>/", views.act, name="act"),
]
