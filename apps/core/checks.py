"""System checks of the product's own configuration (ids ``core.E0xx``)."""

from django.apps import apps
from django.core.checks import Error, Tags, register

from apps.core.rbac import ROLES


@register(Tags.security)
def check_rbac_policies(app_configs, **kwargs):
    errors = []
    for model in apps.get_models():
        policy = getattr(model, "rbac", None) or {}
        name = model._meta.model_name
        declared = set(model._meta.default_permissions) | {
            code[: -len(name) - 1] for code, _ in model._meta.permissions if code.endswith(f"_{name}")
        }
        for role, actions in policy.items():
            if role not in ROLES:
                errors.append(Error(f"{model._meta.label}.rbac names unknown role {role!r}.", id="core.E001"))
            for action in actions:
                if action not in declared:
                    errors.append(
                        Error(
                            f"{model._meta.label}.rbac gives {role!r} the action {action!r}, which has no permission.",
                            hint="Declare it in Meta.permissions as '<action>_<model_name>'.",
                            id="core.E002",
                        )
                    )
    return errors
