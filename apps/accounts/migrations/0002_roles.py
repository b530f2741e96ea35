"""Create the five role groups. Their permission sets are applied from apps.core.rbac after every migrate
(post_migrate -> sync_roles), so models added later get their permissions without another data migration."""

from django.db import migrations

ROLES = ("admin", "supervisor", "operator", "viewer", "scada")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
