from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import LoginFailure, User, UserScope


class UserScopeInline(admin.TabularInline):
    model = UserScope
    extra = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "email", "role_display", "all_fields", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "all_fields"]
    inlines = [UserScopeInline]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Scope and notifications", {"fields": ("all_fields", "notify_by_email", "notify_min_severity", "phone")}),
    )

    @admin.display(description="Role")
    def role_display(self, obj):
        return obj.role or "-"


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["username", "ip", "at"]
    search_fields = ["username", "ip"]
    list_filter = ["at"]
    readonly_fields = ["username", "ip", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
