"""Garbage-collector settings for the long-running processes (web server, gateway, forwarder).

``tune()`` is called once the application is loaded:
- ``gc.freeze()`` moves everything created at start-up (modules, models, URL patterns, settings: several hundred
  thousand objects) to a permanent generation, so a full collection scans only what requests and batches create
  (the Python documentation recommends it for servers, see ``gc.freeze``);
- the first generation's threshold is raised from Python's 700 to ``GC_GEN0_THRESHOLD`` (default 50,000) container
  allocations: a 5,000-event sync batch builds ~100,000 dicts and lists, which at 700 triggered ~150 collections,
  each re-walking the live batch. Reference counting still frees all non-cyclic garbage at once; only cycles wait a
  little longer. The hub's apply of a batch measured ~15 % faster (bench/sync_drain.py profile). 0 keeps Python's
  defaults.
"""

from __future__ import annotations

import gc


def tune() -> None:
    from django.conf import settings

    threshold = getattr(settings, "GC_GEN0_THRESHOLD", 0)
    if not threshold:
        return
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, gen1, gen2)
