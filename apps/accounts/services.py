"""Login with lockout, used by the JWT login endpoint, the session login page and Django admin alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import LoginFailure, UserScope
from apps.core.audit import record
from apps.core.choices import AuditAction


class LockedOut(Exception):
    def __init__(self, retry_after: int, reason: str):
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(reason)


class InvalidCredentials(Exception):
    pass


@dataclass
class LockState:
    locked: bool
    retry_after: int = 0
    reason: str = ""


def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_WINDOW_SECONDS)


def lock_state(username: str, ip: str | None) -> LockState:
    since = _window_start()
    window = settings.LOGIN_LOCKOUT_WINDOW_SECONDS
    checks = [(LoginFailure.objects.filter(username__iexact=username, at__gte=since), settings.LOGIN_LOCKOUT_FAILURES,
               "Too many failed logins for this account")]
    if ip:
        checks.append((LoginFailure.objects.filter(ip=ip, at__gte=since), settings.LOGIN_LOCKOUT_IP_FAILURES,
                       "Too many failed logins from this address"))
    for qs, limit, reason in checks:
        failures = list(qs.order_by("-at").values_list("at", flat=True)[:limit])
        if len(failures) >= limit:
            oldest_counted = failures[-1]
            retry = int((oldest_counted + timedelta(seconds=window) - timezone.now()).total_seconds()) + 1
            return LockState(True, max(retry, 1), reason)
    return LockState(False)


def register_failure(username: str, ip: str | None) -> LockState:
    # Failures older than the window no longer count: prune them so a password-spraying run cannot grow the table.
    LoginFailure.objects.filter(at__lt=_window_start()).delete()
    LoginFailure.objects.create(username=username[:150], ip=ip, at=timezone.now())
    record(AuditAction.LOGIN_FAILED, actor_name=username[:150] or "?", object_type="accounts.user",
           object_repr=username[:200], message="Wrong username or password.")
    state = lock_state(username, ip)
    if state.locked:
        record(AuditAction.LOCKOUT, actor_name=username[:150] or "?", object_type="accounts.user",
               object_repr=username[:200], message=f"{state.reason}; locked for {state.retry_after} s.")
    return state


def login(request, username: str, password: str, ip: str | None):
    """Authenticate with lockout. Returns the user; raises LockedOut or InvalidCredentials. Audits every outcome."""
    state = lock_state(username, ip)
    if state.locked:
        record(AuditAction.LOCKOUT, actor_name=username[:150] or "?", object_type="accounts.user",
               object_repr=username[:200], message=f"Login refused while locked ({state.reason}).")
        raise LockedOut(state.retry_after, state.reason)
    user = authenticate(request, username=username, password=password)
    if user is None:
        state = register_failure(username, ip)
        if state.locked:
            raise LockedOut(state.retry_after, state.reason)
        raise InvalidCredentials()
    # A success clears the account's failure count (the address keeps its own).
    LoginFailure.objects.filter(username__iexact=username).delete()
    record(AuditAction.LOGIN, user, actor=user, message="Login succeeded.")
    return user


@transaction.atomic
def create_or_update_user(username: str, role: str, *, password: str | None = None, fields=(), sites=(),
                          email: str = "", first_name: str = "", last_name: str = "", all_fields: bool | None = None):
    User = get_user_model()
    # Created with an unusable password, never a blank one: the row is valid from its first save (its sync event
    # too: a receiving edge validates the password field like any other).
    user, created = User.objects.get_or_create(username=username, defaults={"password": make_password(None)})
    if email:
        user.email = email
    if first_name:
        user.first_name = first_name
    if last_name:
        user.last_name = last_name
    if password is not None:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, user)
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if all_fields is None:
        all_fields = not fields and not sites
    user.all_fields = all_fields
    user.save()
    user.set_role(role)
    user.save()
    user.scopes.all().delete()
    for code in fields:
        UserScope.objects.create(user=user, kind="field", code=code)
    for code in sites:
        UserScope.objects.create(user=user, kind="site", code=code)
    return user, created
