"""Object builders shared by the operations tests (wells, drilling, production, intervention)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from apps.wells.models import Completion, CompletionRestriction, Trajectory, Well, Wellbore

_seq = itertools.count(1)


def well(world, in_scope=True, **kw):
    n = next(_seq)
    site = world.site_a if in_scope else world.site_b
    return Well.objects.create(site=site, name=kw.pop("name", f"W{n:03d}{'A' if in_scope else 'B'}"),
                               uwi=kw.pop("uwi", f"UWI-{n:06d}-{'A' if in_scope else 'B'}"), **kw)


def wellbore(world, in_scope=True, **kw):
    w = kw.pop("well", None) or well(world, in_scope)
    return Wellbore.objects.create(well=w, name=kw.pop("name", "OH"), **kw)


def completion(world, in_scope=True, restrictions=((Decimal("2500"), Decimal("58.75")),), **kw):
    wb = kw.pop("wellbore", None) or wellbore(world, in_scope)
    c = Completion.objects.create(wellbore=wb, name=kw.pop("name", "Upper completion"),
                                  tubing_od_mm=kw.pop("tubing_od_mm", Decimal("88.90")),
                                  tubing_id_mm=kw.pop("tubing_id_mm", Decimal("76.00")), **kw)
    for depth, min_id in restrictions:
        CompletionRestriction.objects.create(completion=c, depth_md=depth, min_id_mm=min_id,
                                             description=f"Nipple {min_id} mm")
    return c


def trajectory(world, in_scope=True, **kw):
    wb = kw.pop("wellbore", None) or wellbore(world, in_scope)
    return Trajectory.objects.create(wellbore=wb, name=kw.pop("name", "MWD"), **kw)
