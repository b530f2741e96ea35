"""URLs. Each app's API (``<app>/api/urls.py``) mounts under /api/v1/<app>/ and its UI (``<app>/urls.py``) under
/<app>/, discovered from INSTALLED_APPS, so adding an app needs no edit here."""

from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.api.urls import auth_urlpatterns
from apps.core import health


def _has(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


PROJECT_APPS = [a for a in settings.INSTALLED_APPS if a.startswith(("apps.", "scada"))]

api_v1 = [path("", include("apps.core.api.urls"))]
ui = []
for _app in PROJECT_APPS:
    _label = _app.rsplit(".", 1)[-1]
    if _app != "apps.core" and _has(f"{_app}.api.urls"):
        _api = import_module(f"{_app}.api.urls")
        # A module may choose its mount point (the alarms sub-app of scada lives under /api/v1/scada/).
        api_v1.append(path(getattr(_api, "API_PREFIX", f"{_label}/"), include(_api)))
    if _app != "apps.core" and _has(f"{_app}.urls"):
        _module = import_module(f"{_app}.urls")
        ui.append(path(f"{_label}/", include(_module)))
api_v1.append(path("toolstrings", include("apps.intervention.api.contract_urls")))  # reference contract path

urlpatterns = [
    path("api/health", health.health, name="health"),
    path("api/ready", health.ready, name="ready"),
    path("metrics", include("apps.ops.metrics_urls")),
    path("api/auth/", include(auth_urlpatterns)),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    *ui,
    path("", include("apps.core.urls")),
]

handler404 = "apps.core.views.handler404"
handler500 = "apps.core.views.handler500"
handler403 = "apps.core.views.handler403"
