"""A change of a user's role (auth.Group membership) or scope (UserScope rows) is a change of the user for sync: the
hub writes a fresh event of the user (apps.sync.registry.touch), in the same transaction as the change. On an edge
(users sync down only) and for changes applied from the hub, touch() writes nothing."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save


def _touch(pks) -> None:
    from apps.accounts.models import User
    from apps.sync import registry

    registry.touch(User, pks)


def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # user.groups.add/remove/set/clear
        if action in ("post_add", "post_remove", "post_clear"):
            _touch([instance.pk])
        return
    # group.user_set.add/remove/clear: the users are pk_set (or, for clear, those the group had before)
    if action == "pre_clear":
        instance._sync_cleared_users = list(instance.user_set.values_list("pk", flat=True))
    elif action == "post_clear":
        _touch(getattr(instance, "_sync_cleared_users", ()))
    elif action in ("post_add", "post_remove"):
        _touch(pk_set or ())


def _scope_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _touch([instance.user_id])


def connect() -> None:
    from apps.accounts.models import User, UserScope

    m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="accounts-sync-groups")
    post_save.connect(_scope_changed, sender=UserScope, dispatch_uid="accounts-sync-scope-save")
    post_delete.connect(_scope_changed, sender=UserScope, dispatch_uid="accounts-sync-scope-delete")
