"""What the re-key check costs on correctly keyed input (docs/worker.md#re-keying).

    .venv/bin/python -m bench.experiments.rekey_cost

Decides examples/natterbox.jsonl with the natterbox pack through ``Pipeline.process``,
every record in its key's partition (so nothing is forwarded), with and without a
``Rekey``, 15 interleaved runs; prints the medians in µs per event, and the check
(``Rekey.misplaced``) alone.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import orjson

from auditor.engine import Engine
from auditor.events.flow import Event
from auditor.events.keys import partition_key
from auditor.intake import Intake
from auditor.kafka_partitioner import partition_of
from auditor.policy import load_policy
from auditor.stream.memory import PartitionMemory
from auditor.stream.pipeline import Pipeline, Source
from auditor.stream.rekey import Rekey

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4
RUNS = 15


def main() -> None:
    lines = [line for line in (ROOT / "examples" / "natterbox.jsonl").read_bytes().splitlines()
             if line.strip()]
    records = [(line, partition_of(partition_key(orjson.loads(line)) or b"", PARTITIONS))
               for line in lines]
    engine = Engine(load_policy(ROOT / "policies" / "natterbox.yaml"))
    assert engine.memory is not None, "the pack remembers: the worker would re-key"

    def run(rekey: Rekey | None) -> float:
        pipeline = Pipeline(engine, memory=PartitionMemory(), rekey=rekey)
        started = time.perf_counter()
        for offset, (raw, partition) in enumerate(records):
            source = Source("in", partition, offset, 1_780_000_000_000)
            for decision, _, _ in pipeline.process(raw, None, [], source):
                assert decision is not None, "correctly keyed: nothing is forwarded"
        return (time.perf_counter() - started) / len(records) * 1e6

    run(None)  # warm the decision cache and the code
    times: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(RUNS):
        times["off"].append(run(None))
        times["on"].append(run(Rekey("g.auditor.repartition", PARTITIONS)))
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(f"{len(records)} events, {RUNS} runs each: without re-keying {off:.2f} µs/event, "
          f"with {on:.2f} (+{on - off:.2f} µs, {(on - off) / off * 100:+.1f} %)")

    intake = Intake()
    events = [(item, partition) for raw, partition in records
              if isinstance(item := intake.read(raw), Event)]
    rekey = Rekey("g.auditor.repartition", PARTITIONS)
    started = time.perf_counter()
    for _ in range(5):
        for event, partition in events:
            rekey.misplaced(event, partition)
    each = (time.perf_counter() - started) / (5 * len(events)) * 1e6
    print(f"Rekey.misplaced alone: {each:.3f} µs/event")


if __name__ == "__main__":
    main()
