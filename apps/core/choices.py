from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOCKOUT = "lockout", "Locked out"
    LOGOUT = "logout", "Logout"
    PERMISSION_DENIED = "permission_denied", "Permission denied"
    TRANSITION = "transition", "State transition"
    COMMAND = "command", "Command"


class AuditChannel(models.TextChoices):
    UI = "ui", "Web UI"
    API = "api", "API"
    ADMIN = "admin", "Django admin"
    COMMAND = "command", "Management command"
    GATEWAY = "gateway", "SCADA gateway"
    WORKER = "worker", "Background worker"
    SYNC = "sync", "Hub sync"
    SYSTEM = "system", "System"


class Severity(models.TextChoices):
    INFO = "info", "Information"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"

    @classmethod
    def rank(cls, value: str) -> int:
        return {cls.INFO: 0, cls.WARNING: 1, cls.CRITICAL: 2}.get(value, 0)
