from django.db import models

from apps.core.rbac import ROLES


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    SUPERVISOR = "supervisor", "Supervisor"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"
    SCADA = "scada", "SCADA service account"


assert tuple(Role.values) == ROLES


class ScopeKind(models.TextChoices):
    FIELD = "field", "Field"
    SITE = "site", "Site"
