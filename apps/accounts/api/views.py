"""JWT login/refresh/logout for the API and devices, the caller's own profile, and user management."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from apps.accounts import services
from apps.accounts.api.serializers import (
    LoginResponseSerializer,
    LoginSerializer,
    LogoutSerializer,
    UserSerializer,
    UserSummarySerializer,
)
from apps.accounts.models import UserScope
from apps.core.api.base import ScopedModelViewSet
from apps.core.api.exceptions import error_response
from apps.core.audit import record
from apps.core.choices import AuditAction
from apps.core.context import client_ip

User = get_user_model()


class LoginView(APIView):
    """Exchange a username and password for an access and a refresh token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: LoginResponseSerializer,
            400: OpenApiResponse(description="validation_error"),
            401: OpenApiResponse(description="invalid_credentials"),
            429: OpenApiResponse(description="account_locked (Retry-After gives the seconds left)"),
        },
        auth=[],
    )
    def post(self, request):
        payload = LoginSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        username = payload.validated_data["username"]
        try:
            user = services.login(request._request, username, payload.validated_data["password"], client_ip(request))
        except services.LockedOut as exc:
            response = error_response(
                "account_locked",
                f"{exc.reason}. Try again in {exc.retry_after} seconds or ask an administrator.",
                status.HTTP_429_TOO_MANY_REQUESTS,
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        except services.InvalidCredentials:
            return error_response("invalid_credentials", "Wrong username or password.", status.HTTP_401_UNAUTHORIZED)
        refresh = RefreshToken.for_user(user)
        refresh["role"] = user.role
        return Response(
            {"access": str(refresh.access_token), "refresh": str(refresh), "user": UserSummarySerializer(user).data}
        )


class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token (and a new refresh token: the old one is blacklisted)."""


class LogoutView(APIView):
    """Blacklist a refresh token: it can no longer be refreshed. Access tokens expire on their own (15 min)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LogoutSerializer, responses={205: None, 401: OpenApiResponse(description="invalid_token")},
                   auth=[])
    def post(self, request):
        payload = LogoutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            token = RefreshToken(payload.validated_data["refresh"])
            token.blacklist()
        except TokenError as exc:
            return error_response("invalid_token", str(exc), status.HTTP_401_UNAUTHORIZED)
        user = User.objects.filter(pk=token.get("user_id")).first()
        if user is not None:
            record(AuditAction.LOGOUT, user, actor=user, message="Refresh token blacklisted.")
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class UserViewSet(ScopedModelViewSet):
    """User management: admins create, change and deactivate users; supervisors read."""

    queryset = User.objects.prefetch_related("scopes", "groups").all()
    serializer_class = UserSerializer
    filterset_fields = ["is_active", "groups__name"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "last_login", "date_joined"]

    def get_queryset(self):
        # Users are not field-scoped; the role permission (view_user) is the gate.
        return self.queryset

    def _save(self, serializer):
        data = dict(serializer.validated_data)
        role = data.pop("role", None)
        password = data.pop("password", None)
        scopes = data.pop("scopes", None)
        with transaction.atomic():
            user = serializer.instance or User()
            for key, value in data.items():
                setattr(user, key, value)
            if password:
                user.set_password(password)
            elif user._state.adding:
                user.set_unusable_password()
            user.save()
            if role:
                user.set_role(role)
                user.save()
            if scopes is not None:
                user.scopes.all().delete()
                for scope in scopes:
                    UserScope.objects.create(user=user, **scope)
        serializer.instance = user

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)

    def perform_destroy(self, instance):
        # Deleting a user would orphan their audit trail: deactivate instead.
        instance.is_active = False
        instance.save()
