from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from apps.core.rbac import ADMIN, ROLE_LABELS, ROLES, model_policy

HEADER = """# Roles and permissions (RBAC matrix)

Generated from the code (`apps/core/rbac.py` and each model's `rbac` attribute) by
`.venv/bin/python manage.py rbac_matrix`; a test fails when this file is stale.

How a request is decided (the one choke point, `apps/core/permissions.py`):

1. **Role**: the user's role must grant the action on the model (`view`, `add`, `change`, `delete` or a custom action
   such as `approve`). Otherwise the API answers **403** `permission_denied` (and the denial is audited).
2. **Scope**: users are assigned fields and/or sites (`manage.py add_user NAME --role R --field CODE`). Rows outside
   their scope do not exist for them: the API and the UI answer **404**. Admins, and users flagged *all fields*, see
   every field. Notifications are scoped to their recipient, for everyone.

Anonymous requests get **401** everywhere except `/api/health`, `/api/ready`, `/api/auth/login`, `/api/auth/refresh`
and `/api/auth/logout`.

## Roles

"""


def render() -> str:
    lines = [HEADER]
    for role in ROLES:
        lines.append(f"- **{role}**: {ROLE_LABELS[role].split(': ', 1)[1]}\n")
    lines.append("\n## Matrix\n\n")
    lines.append("`admin` may do everything on every model (including user management and Django admin).\n\n")
    others = [r for r in ROLES if r != ADMIN]
    lines.append("| model | " + " | ".join(others) + " |\n")
    lines.append("|---|" + "---|" * len(others) + "\n")
    project = [a.split(".")[-1] for a in settings.INSTALLED_APPS if a.startswith("apps.") or a == "scada"]
    models = sorted(
        (m for m in apps.get_models() if m._meta.app_label in project or model_policy(m)),
        key=lambda m: m._meta.label_lower,
    )
    for model in models:
        policy = model_policy(model)
        cells = [", ".join(policy.get(role, ())) or "—" for role in others]
        lines.append(f"| {model._meta.label_lower} | " + " | ".join(cells) + " |\n")
    return "".join(lines)


class Command(BaseCommand):
    help = "Write docs/rbac.md from the role policy in the code."

    def handle(self, *args, **opts):
        path = Path(settings.BASE_DIR) / "docs" / "rbac.md"
        path.write_text(render())
        self.stdout.write(f"wrote {path}")
