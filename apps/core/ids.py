"""Time-ordered identifiers for append-heavy tables (the audit trail, the sync outbox).

``uuid7()`` is an RFC 9562 version 7 UUID: 48 bits of Unix time in milliseconds, 12 bits of sub-millisecond time
(§6.2 method 3, so ids made one after another in a process sort in creation order), then 62 random bits. Rows keyed
by it are appended at the right edge of their B-tree indexes instead of at random pages: on the hub, the receipts of
a 5,000-event batch insert in about a third of the time random (version 4) ids take (bench/sync_drain.py), and the
edge's outbox index stays compact. It is still a UUID: every consumer of the ids is unchanged.

Written here (a dozen lines) because Python 3.11 has no ``uuid.uuid7`` (3.14 adds it) and the PyPI packages either
advance the clock by 1 ms per id under bursts (``uuid6``) or need a compiled extension.
"""

from __future__ import annotations

import secrets
import time
import uuid

_MS_MASK = (1 << 48) - 1


def uuid7() -> uuid.UUID:
    ms, ns = divmod(time.time_ns(), 1_000_000)
    sub_ms = ns * 4096 // 1_000_000  # 12 bits of the sub-millisecond fraction (rand_a in RFC 9562)
    return uuid.UUID(int=(ms & _MS_MASK) << 80 | 0x7 << 76 | sub_ms << 64 | 0b10 << 62 | secrets.randbits(62))
