from django import forms
from django.contrib.auth.forms import AuthenticationForm

from apps.accounts import services
from apps.core.context import client_ip


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's login form, going through the lockout service (used by the UI login page and Django admin)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.login(self.request, username, password, client_ip(self.request))
            except services.LockedOut as exc:
                raise forms.ValidationError(
                    f"{exc.reason}. Try again in {exc.retry_after // 60 + 1} minutes or ask an administrator.",
                    code="locked",
                ) from exc
            except services.InvalidCredentials as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
