"""The role policy: groups exist, carry exactly the policy's permissions, and docs/rbac.md matches the code."""

from pathlib import Path

from django.contrib.auth.models import Group, Permission

from apps.core.rbac import ROLES, policy_codenames, sync_roles

DOC = Path(__file__).resolve().parents[2] / "docs" / "rbac.md"


def test_role_groups_exist_with_policy_permissions(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    wanted = policy_codenames()
    for role, codes in wanted.items():
        have = set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))
        assert have == codes, role
    assert Group.objects.get(name="admin").permissions.count() == Permission.objects.count()


def test_viewer_only_reads_and_scada_has_no_erp_rights(db):
    wanted = policy_codenames()
    # A viewer reads, and may only mark their own notifications as read.
    assert all(code.startswith("view_") or code == "change_notification" for _, code in wanted["viewer"])
    assert not any(app in ("wells", "drilling", "finance") for app, _ in wanted["scada"])


def test_sync_roles_repairs_a_hand_edited_group(db):
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.add(Permission.objects.get(codename="delete_site"))
    sync_roles()
    assert not viewer.permissions.filter(codename="delete_site").exists()


def test_rbac_doc_lists_every_policy_entry():
    """docs/rbac.md is generated from the policy (manage.py rbac_matrix); regenerate it when a model changes."""
    from apps.core.management.commands.rbac_matrix import render

    assert DOC.read_text() == render(), "docs/rbac.md is stale: run `.venv/bin/python manage.py rbac_matrix`"
