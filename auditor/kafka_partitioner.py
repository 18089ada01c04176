"""Kafka's default partitioner in Python: where the Java client (and librdkafka's
``murmur2_random``) puts a keyed record, so the worker can tell a record in the wrong
partition from one in the right one without asking a producer."""

from __future__ import annotations

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2`` of ``data``, as an unsigned 32-bit integer.

    The Java code works on signed ints that wrap; masking to 32 bits after every
    multiplication and using logical shifts gives the same bits.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK
    whole = length & ~3
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest:
        if rest == 3:
            h ^= data[whole + 2] << 16
        if rest >= 2:
            h ^= data[whole + 1] << 8
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of a record keyed ``key`` in a topic of ``partitions`` partitions, as
    the Java client's default partitioner (and librdkafka's ``murmur2_random``) picks it:
    ``toPositive(murmur2(key)) % partitions``. A record without a key has none: those
    clients spread them at random."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
