"""``auditor worker`` with its output side changed for a measurement (never for production).

Run as ``python -m bench.tuned_worker`` with the worker's ``AUDITOR_*`` settings and:

- ``BENCH_OUTPUT_PRODUCER``: a JSON object of librdkafka properties laid over the output
  producer's (``auditor.kafka_config.output_producer``), e.g.
  ``{"compression.type": "zstd", "linger.ms": 20}``;
- ``BENCH_BATCH_OUT=N``: decisions and findings leave as NDJSON batch records of up to N
  decisions of one key (in order), ``content-type: application/x-ndjson``, instead of one
  record each. The per-decision provenance headers are dropped (a batch record could only
  carry them inside its lines): this measures what batch records out would give, not a
  format the auditor offers. Dead letters and the memory's changelog are unchanged.

Used by ``bench/experiments/kafka_side.py`` (bench/README.md, "The Kafka side").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from auditor import kafka_config
from auditor.emit import BATCH_CONTENT_TYPE
from auditor.stream import app as stream_app
from auditor.stream.pipeline import Output
from auditor.stream.sink import Commit, KafkaSink

BATCHED_KINDS = frozenset({"decision", "finding"})


def batch_outputs(outputs: Sequence[Output], most: int) -> list[Output]:
    """``outputs`` with each key's decisions (and findings) packed ``most`` to a record."""
    packed: list[Output] = []
    open_: dict[tuple[str, bytes | None], list[bytes]] = {}

    def close(kind: str, key: bytes | None) -> None:
        lines = open_.pop((kind, key))
        packed.append(Output(kind, key, b"\n".join(lines),
                             [("content-type", BATCH_CONTENT_TYPE)]))

    for out in outputs:
        if out.kind not in BATCHED_KINDS or out.value is None:
            packed.append(out)
            continue
        lines = open_.setdefault((out.kind, out.key), [])
        lines.append(out.value)
        if len(lines) >= most:
            close(out.kind, out.key)
    for kind, key in list(open_):
        close(kind, key)
    return packed


def install(environ: Mapping[str, str]) -> None:
    """Patch the output producer's settings and the sink as ``environ`` asks."""
    overrides: dict[str, Any] = orjson.loads(environ.get("BENCH_OUTPUT_PRODUCER", "{}"))
    if overrides:
        original = kafka_config.output_producer

        def output_producer(base: Mapping[str, Any], *, timeout_s: float) -> dict[str, Any]:
            return {**original(base, timeout_s=timeout_s), **overrides}

        kafka_config.output_producer = output_producer
    most = int(environ.get("BENCH_BATCH_OUT", "0"))
    if most > 1:

        class BatchingSink(KafkaSink):
            async def deliver(self, outputs: Sequence[Output],
                              commit: Commit | None = None) -> None:
                await super().deliver(batch_outputs(outputs, most), commit)

        setattr(stream_app, "KafkaSink", BatchingSink)  # noqa: B010


def main() -> None:
    install(os.environ)
    from auditor.cli import main as auditor

    sys.argv = ["auditor", "worker"]
    auditor()


if __name__ == "__main__":
    main()
