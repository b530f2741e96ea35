"""A change of a meter's allocation group (the ``Meter.wells`` M2M) is a change of the meter for sync: it writes a
fresh event of the meter (apps.sync.registry.touch), whose payload extras carry the group, in the same transaction as
the change. For changes applied from the hub, and where meters do not sync from this box, touch() writes nothing."""

from __future__ import annotations

from django.db.models.signals import m2m_changed


def _touch(pks) -> None:
    from apps.production.models import Meter
    from apps.sync import registry

    registry.touch(Meter, pks)


def _wells_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # meter.wells.add/remove/set/clear
        if action in ("post_add", "post_remove", "post_clear"):
            _touch([instance.pk])
        return
    # well.meters.add/remove/clear: the meters are pk_set (or, for clear, those the well had before)
    if action == "pre_clear":
        instance._sync_cleared_meters = list(instance.meters.values_list("pk", flat=True))
    elif action == "post_clear":
        _touch(getattr(instance, "_sync_cleared_meters", ()))
    elif action in ("post_add", "post_remove"):
        _touch(pk_set or ())


def connect() -> None:
    from apps.production.models import Meter

    m2m_changed.connect(_wells_changed, sender=Meter.wells.through, dispatch_uid="production-sync-meter-wells")
