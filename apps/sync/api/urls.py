from django.urls import path

from apps.sync.api import views

urlpatterns = [
    path("push", views.PushView.as_view(), name="sync-push"),
    path("pull", views.PullView.as_view(), name="sync-pull"),
    path("telemetry", views.TelemetryView.as_view(), name="sync-telemetry"),
    path("status", views.StatusView.as_view(), name="sync-status"),
    path("quarantine", views.QuarantineView.as_view(), name="sync-quarantine"),
    path("quarantine/retry", views.QuarantineRetryView.as_view(), name="sync-quarantine-retry"),
    path("quarantine/export", views.QuarantineExportView.as_view(), name="sync-quarantine-export"),
    path("edges", views.EdgesView.as_view(), name="sync-edges"),
]
