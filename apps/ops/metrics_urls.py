"""Mounted at /metrics by one line in erp/urls.py (Prometheus expects the conventional path, not /ops/...)."""

from django.urls import path

from apps.ops import views

urlpatterns = [path("", views.metrics, name="metrics")]
