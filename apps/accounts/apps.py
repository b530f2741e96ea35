from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out


def _on_logout(sender, request, user, **kwargs):
    from apps.core.audit import record
    from apps.core.choices import AuditAction

    if user is not None:
        record(AuditAction.LOGOUT, user, actor=user, message="Session ended.")


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.contrib import admin

        from apps.accounts import signals
        from apps.accounts.forms import LockoutAuthenticationForm
        from apps.accounts.models import User, UserScope
        from apps.core import audit

        audit.register(User)
        audit.register(UserScope)
        admin.site.login_form = LockoutAuthenticationForm
        user_logged_out.connect(_on_logout, dispatch_uid="accounts-audit-logout")
        signals.connect()  # role/scope changes re-emit the user's sync event
