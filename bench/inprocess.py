"""Rows (a) and (b): decoding, and deciding, the traffic in this process (no Kafka)."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from auditor.engine import Decider, Engine
from auditor.policy import load_policy
from auditor.stream.pipeline import Pipeline, Source
from bench.context import POLICIES
from bench.measure import Rate
from bench.traffic import Traffic


def engines(packs: tuple[str, ...]) -> list[Engine]:
    """A fresh engine per pack, in the order of ``packs`` (loading is not timed)."""
    return [Engine(load_policy(POLICIES / f"{pack}.yaml")) for pack in packs]


def decode_only(traffic: Traffic) -> Rate:
    """(a) ``orjson.loads`` of every line."""
    loads = orjson.loads
    lines = traffic.lines
    start = time.perf_counter()
    for raw in lines:
        loads(raw)
    rate = Rate()
    rate.add("all", len(lines), time.perf_counter() - start)
    return rate


def decode_classify(traffic: Traffic, profile: Path | None = None) -> Rate:
    """(b) decode + decide (and the deadlines it passes) per line: the one decide loop,
    ``Decider.raw`` (input layer, validation, engine).

    Each line goes to the engine of its own pack, in file order: the mix as the
    traffic has it, each pack's rules that remember seeing their events in order.
    """
    decide = [Decider(engine).raw for engine in engines(traffic.packs)]
    pairs = list(zip(traffic.lines, traffic.pack_of, strict=True))

    def run() -> int:
        decided = 0
        for raw, pack in pairs:
            step = decide[pack](raw)
            decided += 1 + len(step.deadlines)
        return decided

    start = time.perf_counter()
    decided = _maybe_profiled(run, profile)
    rate = Rate()
    rate.add("all", len(pairs), time.perf_counter() - start)
    rate.extra["decisions"] = decided
    return rate


def pipeline_in_process(traffic: Traffic, profile: Path | None = None) -> Rate:
    """(b2) the worker's per-record code path without Kafka: ``Pipeline.process``.

    Decode, classify, the decision's JSON and the output records with their headers:
    what the worker does per event besides consuming and producing.
    """
    pipelines = [Pipeline(engine) for engine in engines(traffic.packs)]
    pairs = list(zip(traffic.lines, traffic.pack_of, strict=True))

    def run() -> int:
        outputs = 0
        for offset, (raw, pack) in enumerate(pairs):
            source = Source("lineage.events", 0, offset, 1_780_000_000_000)
            for _decision, _reason, outs in pipelines[pack].process(raw, None, [], source):
                outputs += len(outs)
        return outputs

    start = time.perf_counter()
    outputs = _maybe_profiled(run, profile)
    rate = Rate()
    rate.add("all", len(pairs), time.perf_counter() - start)
    rate.extra["outputs"] = outputs
    return rate


def _maybe_profiled(run: Callable[[], int], profile: Path | None) -> int:
    if profile is None:
        return run()
    profiler = cProfile.Profile()
    result: Any = profiler.runcall(run)
    profile.parent.mkdir(parents=True, exist_ok=True)
    with profile.open("w") as out:
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(30)
    return int(result)
