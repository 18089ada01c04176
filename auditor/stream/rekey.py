"""Re-keying: an event that arrived in a partition other than its key's goes, through the
worker's repartition topic, to the partition its key gives, and is decided there.

Rules that remember keep their memory per input partition, so they need all of a
tenant's (else a subject's) events in one partition. Producers that key otherwise (the
OpenLineage client keys by job: ``run:<namespace>/<job>``) spread a tenant over several.
For a policy with such rules, the worker computes each decoded event's partition as
``auditor emit`` would place it (``event_key``, the emitter's ``partition_key``, under
Kafka's default partitioner); an event found elsewhere is forwarded, its bytes and
headers unchanged plus the ``auditor.rekey.*`` markers, to that partition of
``<group>.auditor.repartition``, which the worker also consumes (as Faust's ``group_by``
does). Partition N of both topics belongs to one worker (the consumer's ``range``
assignor), so the forwarded event meets the memory of partition N.
docs/worker.md#re-keying says what it costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from auditor.events.flow import Event
from auditor.events.keys import event_key
from auditor.kafka_partitioner import partition_of

# Where a forwarded event was read: its decisions carry this provenance, so a decision
# made from the repartition topic has the same de-duplication key as one made in place.
H_TOPIC = "auditor.rekey.topic"
H_PARTITION = "auditor.rekey.partition"
H_OFFSET = "auditor.rekey.offset"
H_TIMESTAMP = "auditor.rekey.timestamp"
H_INDEX = "auditor.rekey.index"  # the event's line in an NDJSON batch record
MARKERS = frozenset({H_TOPIC, H_PARTITION, H_OFFSET, H_TIMESTAMP, H_INDEX})
# Distinct keys whose partition is remembered; cleared when full (tenants are few, event
# ids under no tenant are many).
CACHE_MAX = 65_536

Headers = list[tuple[str, bytes]]


def repartition_topic(group_id: str) -> str:
    """The repartition topic of a consumer group (as many partitions as its input)."""
    return f"{group_id}.auditor.repartition"


class Moved(NamedTuple):
    """An event to forward: its partition key and the partition that key gives."""

    key: bytes
    partition: int


class Origin(NamedTuple):
    """Where a forwarded event was first read, from its markers; ``headers`` are its
    original ones (markers removed)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    line: int | None  # the event's line in an NDJSON batch record
    headers: Headers


@dataclass(slots=True)
class Rekey:
    """The repartition topic and its partition count (the input's): where events go."""

    topic: str
    partitions: int
    _cache: dict[bytes, int] = field(default_factory=dict, repr=False)

    def misplaced(self, event: Event, partition: int) -> Moved | None:
        """The key and partition of ``event`` if they are not ``partition``, else None.

        An event with no key (no tenant, subject or event id: impossible for a valid
        event) stays where it is: such records are spread at random by producers anyway.
        """
        key = event_key(event)
        if key is None:
            return None
        cache = self._cache
        target = cache.get(key)
        if target is None:
            if len(cache) >= CACHE_MAX:
                cache.clear()
            target = cache[key] = partition_of(key, self.partitions)
        return None if target == partition else Moved(key, target)


def forward_headers(headers: Headers, topic: str, partition: int, offset: int,
                    timestamp_ms: int | None, index: int | None) -> Headers:
    """The original headers plus the markers of where the event was read."""
    marks = [(H_TOPIC, topic.encode()), (H_PARTITION, str(partition).encode()),
             (H_OFFSET, str(offset).encode())]
    if timestamp_ms is not None:
        marks.append((H_TIMESTAMP, str(timestamp_ms).encode()))
    if index is not None:
        marks.append((H_INDEX, str(index).encode()))
    return [*(h for h in headers if h[0] not in MARKERS), *marks]


def origin(headers: Headers) -> Origin | None:
    """Where a record of the repartition topic was first read; None if its markers are
    missing or unreadable (such a record is decided as it is, never forwarded again)."""
    marks = {name: value for name, value in headers if name in MARKERS}
    try:
        topic = marks[H_TOPIC].decode()
        partition = int(marks[H_PARTITION])
        offset = int(marks[H_OFFSET])
        stamp = int(marks[H_TIMESTAMP]) if H_TIMESTAMP in marks else None
        index = int(marks[H_INDEX]) if H_INDEX in marks else None
    except (KeyError, ValueError):
        return None
    rest = [h for h in headers if h[0] not in MARKERS]
    return Origin(topic, partition, offset, stamp, index, rest)
