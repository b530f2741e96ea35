from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api.views import LoginView, LogoutView, MeView, RefreshView, UserViewSet

auth_urlpatterns = [
    path("login", LoginView.as_view(), name="auth-login"),
    path("refresh", RefreshView.as_view(), name="auth-refresh"),
    path("logout", LogoutView.as_view(), name="auth-logout"),
]

router = DefaultRouter()
router.include_root_view = False
router.register("users", UserViewSet, basename="user")

urlpatterns = [path("me", MeView.as_view(), name="me"), *router.urls]
