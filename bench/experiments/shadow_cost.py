"""What shadow mode costs the batch loop per event, against deciding alone (in process).

    .venv/bin/python -m bench.experiments.shadow_cost [--events 20000]

For each seed pack: generated traffic decided in batches of 1,000 by the worker's Batcher
(decode, decide, output records, memory changes), and the same with a Shadow whose
candidate is a fresh engine of the same pack (its work: the event's validation again, a
decision, the comparison; no difference, so no record). CPU seconds per event, best of 3
rounds, each with fresh engines (cold decision caches, empty memory).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import orjson
from prometheus_client import CollectorRegistry

from auditor.engine import Engine
from auditor.ops.shadow_metrics import ShadowMetrics
from auditor.policy import load_policy
from auditor.stream.batches import Batcher
from auditor.stream.memory import PartitionMemory
from auditor.stream.pipeline import Pipeline
from auditor.stream.shadow import Shadow
from auditor.stream.sink import MemorySink
from auditor.stream.source import Record
from auditor.traffic import PACKS, generate, load_pack

ROOT = Path(__file__).resolve().parents[2]
BATCH = 1000


class _Out:
    def send(self, records: list[tuple[bytes | None, bytes]]) -> None:
        return None

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


def _round(pack: str, records: list[Record], shadow_on: bool) -> tuple[float, float]:
    """(CPU seconds deciding, CPU seconds in the shadow) for one pass over ``records``."""
    policy = ROOT / "policies" / f"{pack}.yaml"
    live = Engine(load_policy(policy))
    memory = PartitionMemory() if live.memory is not None else None
    shadow = None
    if shadow_on:
        shadow = Shadow(ShadowMetrics(CollectorRegistry(), live), _Out(), live)
        shadow.offer(Engine(load_policy(policy)))
    batcher = Batcher(Pipeline(live, memory=memory), MemorySink(), max_events=BATCH,
                      observe=shadow.observe if shadow else None)
    deciding = shadowing = 0.0
    for start in range(0, len(records), BATCH):
        batcher.pending.extend(records[start:start + BATCH])
        t0 = time.process_time()
        if shadow:
            shadow.before(batcher)
        t1 = time.process_time()
        batch = batcher.decide(0.0)
        t2 = time.process_time()
        if shadow:
            shadow.after(batch)
        t3 = time.process_time()
        deciding += t2 - t1
        shadowing += (t1 - t0) + (t3 - t2)
    return deciding, shadowing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per pack")
    args = parser.parse_args()
    logging.getLogger("auditor.shadow").setLevel(logging.ERROR)  # its "compares from" lines
    print(f"{'pack':<12} {'decide µs/ev':>13} {'+shadow µs/ev':>14} {'shadow/decide':>14}")
    for pack in PACKS:
        lines = [orjson.dumps(e) for e in generate(load_pack(pack), args.events)]
        records = [Record("lineage.events", 0, i, None, None, line, [])
                   for i, line in enumerate(lines)]
        alone = min(_round(pack, records, False)[0] for _ in range(3))
        shadowed = min(sum(_round(pack, records, True)[1:]) for _ in range(3))
        n = len(records)
        print(f"{pack:<12} {alone / n * 1e6:>13.1f} {shadowed / n * 1e6:>14.1f} "
              f"{shadowed / alone:>14.2f}")


if __name__ == "__main__":
    main()
