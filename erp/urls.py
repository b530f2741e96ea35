from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.api.urls import auth_urlpatterns
from apps.core import health

api_v1 = [
    path("", include("apps.core.api.urls")),
    path("accounts/", include("apps.accounts.api.urls")),
    path("wells/", include("apps.wells.api.urls")),
]

urlpatterns = [
    path("api/health", health.health, name="health"),
    path("api/ready", health.ready, name="ready"),
    path("api/auth/", include(auth_urlpatterns)),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("wells/", include("apps.wells.urls")),
    path("", include("apps.core.urls")),
]

handler404 = "apps.core.views.handler404"
handler500 = "apps.core.views.handler500"
handler403 = "apps.core.views.handler403"
