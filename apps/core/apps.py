import time

from django.apps import AppConfig
from django.db.models.signals import post_migrate

STARTED_AT = time.monotonic()


def _sync_roles(sender, using="default", apps=None, **kwargs):
    """post_migrate of the core app: make sure every app's permissions exist (Django creates them app by app, and
    the later apps' would not exist yet), then apply the role policy."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from apps.core.rbac import sync_roles

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, interactive=False, using=using)
    sync_roles(verbosity=0)


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core: audit, notifications"

    def ready(self):
        from apps.core import audit, checks  # noqa: F401  (registers system checks)

        audit.register_all()
        # Runs after every migrate (this app's post_migrate comes after the permissions are created).
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="core-sync-roles")
