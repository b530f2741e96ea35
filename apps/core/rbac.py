"""Roles and the role x action policy, kept in code so it is reviewed, versioned and tested.

Five roles exist as Django groups (created by a data migration in accounts). Their permission sets are computed
from this policy and re-applied after every ``migrate`` (``sync_roles``), so a model added by a later release gets
its permissions without a hand-written migration. docs/rbac.md is the human-readable matrix; a test checks that it
matches this policy.

A model declares what each role may do with it through its ``rbac`` class attribute, a mapping of role to actions.
An action is a Django permission codename prefix: ``view``, ``add``, ``change``, ``delete`` or a custom one declared
in ``Meta.permissions`` (``approve_drillingreport`` -> action ``approve``). The admin role always has every
permission; a model without ``rbac`` is admin-only.
"""

from __future__ import annotations

ADMIN = "admin"
SUPERVISOR = "supervisor"
OPERATOR = "operator"
VIEWER = "viewer"
SCADA = "scada"

ROLES = (ADMIN, SUPERVISOR, OPERATOR, VIEWER, SCADA)
ROLE_LABELS = {
    ADMIN: "Administrator: everything, including user management",
    SUPERVISOR: "Supervisor: approves reports, AFEs and work orders; reads all of their scope",
    OPERATOR: "Operator: enters daily data, acknowledges alarms, writes setpoints",
    VIEWER: "Viewer: reads only",
    SCADA: "SCADA service account: pushes telemetry and ingests data, nothing else",
}

READ = ("view",)
WRITE = ("view", "add", "change")

# Policies most models use; a model picks one or writes its own mapping.
READ_ONLY = {SUPERVISOR: READ, OPERATOR: READ, VIEWER: READ}
SUPERVISOR_WRITES = {SUPERVISOR: WRITE, OPERATOR: READ, VIEWER: READ}
OPERATOR_WRITES = {SUPERVISOR: WRITE, OPERATOR: WRITE, VIEWER: READ}
DEFAULT = SUPERVISOR_WRITES

# Models of Django and third-party apps (which cannot carry an ``rbac`` attribute).
EXTERNAL = {
    "auth.group": {SUPERVISOR: READ},
}

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def model_policy(model) -> dict[str, tuple[str, ...]]:
    label = model._meta.label_lower
    if label in EXTERNAL:
        return EXTERNAL[label]
    return getattr(model, "rbac", None) or {}


def perm_name(model, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def policy_codenames() -> dict[str, set[tuple[str, str]]]:
    """role -> {(app_label, codename)} for every non-admin role."""
    from django.apps import apps

    result: dict[str, set[tuple[str, str]]] = {role: set() for role in ROLES if role != ADMIN}
    for model in apps.get_models():
        for role, actions in model_policy(model).items():
            for action in actions:
                result[role].add((model._meta.app_label, f"{action}_{model._meta.model_name}"))
    return result


def sync_roles(verbosity: int = 0) -> dict[str, int]:
    """Create the role groups if missing and set each group's permissions to exactly what the policy says."""
    from django.contrib.auth.models import Group, Permission

    counts = {}
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(Permission.objects.all())
    counts[ADMIN] = admin.permissions.count()
    index = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for role, wanted in policy_codenames().items():
        group, _ = Group.objects.get_or_create(name=role)
        missing = sorted(f"{a}.{c}" for a, c in wanted if (a, c) not in index)
        if missing:
            raise LookupError(f"rbac policy of role {role!r} names permissions that do not exist: {missing}")
        group.permissions.set([index[key] for key in wanted])
        counts[role] = len(wanted)
    if verbosity:
        print("Roles synchronised: " + ", ".join(f"{r}={n}" for r, n in counts.items()))
    return counts
