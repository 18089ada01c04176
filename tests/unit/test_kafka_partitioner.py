"""Kafka's default partitioner: murmur2 as the Java client computes it."""

from __future__ import annotations

import pytest

from auditor.kafka_partitioner import murmur2, partition_of

# Kafka's own vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
# testMurmur2), as Java's signed ints; tests/integration/test_kafka_partitioner.py checks
# many more keys against a real producer.
JAVA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


@pytest.mark.parametrize(("data", "java"), JAVA_VECTORS)
def test_murmur2_is_the_java_clients(data: bytes, java: int) -> None:
    assert _signed(murmur2(data)) == java


def test_partition_is_the_positive_hash_modulo_the_partitions() -> None:
    # murmur2(b"21") is negative in Java: toPositive masks the sign bit, never abs().
    assert partition_of(b"21", 4) == (-973932308 & 0x7FFFFFFF) % 4
    assert all(partition_of(key, 1) == 0 for key, _ in JAVA_VECTORS)
    assert {partition_of(f"tenant-{i}".encode(), 8) for i in range(200)} == set(range(8))


def test_empty_and_non_ascii_keys() -> None:
    assert 0 <= murmur2(b"") < 1 << 32
    assert 0 <= partition_of("tenant-ü-東京".encode(), 12) < 12
