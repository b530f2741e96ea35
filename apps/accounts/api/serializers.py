from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.accounts.choices import Role, ScopeKind
from apps.accounts.models import UserScope

User = get_user_model()


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class UserSummarySerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "role", "full_name"]


class LoginResponseSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserSummarySerializer()


class ScopeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ScopeKind.choices, default=ScopeKind.FIELD)

    class Meta:
        model = UserScope
        fields = ["kind", "code"]


class UserSerializer(serializers.ModelSerializer):
    """User management (admin role). The password is write-only and validated by Django's validators."""

    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(write_only=True, required=False, trim_whitespace=False)
    scopes = ScopeSerializer(many=True, required=False)
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id", "username", "first_name", "last_name", "full_name", "email", "role", "is_active", "all_fields",
            "scopes", "notify_by_email", "notify_min_severity", "password", "last_login", "date_joined",
        ]
        read_only_fields = ["last_login", "date_joined"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["role"] = instance.role
        return data

    def validate(self, attrs):
        password = attrs.get("password")
        if password:
            probe = self.instance or User(username=attrs.get("username", ""))
            try:
                validate_password(password, probe)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)})
        return attrs
