"""Time-ordered ids (apps/core/ids.py): RFC 9562 version 7, sorted in creation order, unique."""

import time
import uuid

from apps.core.ids import uuid7


def test_uuid7_is_a_version_7_rfc_uuid_carrying_the_time():
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert isinstance(value, uuid.UUID) and value.version == 7 and value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after
    assert uuid.UUID(str(value)) == value


def test_uuid7_ids_made_one_after_another_sort_in_creation_order_and_are_unique():
    ids = [uuid7() for _ in range(20000)]
    assert len(set(ids)) == len(ids)
    # Within one process the millisecond and its 12-bit fraction only grow; ties are broken by random bits, so only
    # ids made within the same ~0.25 microsecond may swap.
    timestamps = [i.int >> 64 & ~(0xF << 12) for i in ids]
    assert timestamps == sorted(timestamps)
