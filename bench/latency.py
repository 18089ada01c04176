"""Row (f): produce → decision latency of the worker under a paced, fixed offered load."""

from __future__ import annotations

import time

import orjson

from auditor.broker import ensure_topics
from auditor.emit import Emitter
from auditor.events.keys import partition_key
from bench.context import Run
from bench.kafka_io import DecisionReader, Drained
from bench.measure import percentile
from bench.procs import Child, peak_rss_kib
from bench.workers import worker_env

WARMUP_ID = "bench-warmup-"


def measure(run: Run) -> None:
    """Per pack: a live worker, then ``rate`` events/s for ``latency_seconds``; pooled.

    Latency of one event = its decision record's timestamp (when the worker produced it)
    minus the header ``auditor.source.timestamp`` (its input record's timestamp, set when
    the emitter queued it): emitter linger, broker, fetch, agent batch and delivery.
    """
    if "f" in run.options.skip:
        run.latency = None
        run.rss_kib["f"] = None
        return
    options = run.options
    count = max(1, int(options.rate * options.latency_seconds))
    latencies: list[float] = []
    per_pack: dict[str, dict[str, float]] = {}
    achieved: list[float] = []
    peak: list[int] = []
    for pack in run.traffic.packs:
        lines = run.traffic.lines_of(pack)
        source = run.topic("lat", pack)
        ensure_topics(run.bootstrap, {source: options.partitions})
        env, decisions = worker_env(run, pack, source, "f")
        child = run.children.python(f"f-{pack}", "auditor", ["worker"], env)
        reader = DecisionReader(run.bootstrap, decisions, latency=True)
        try:
            with Emitter(run.bootstrap, source, validate=False) as emitter:
                _warm_up(run, child, emitter, reader, lines[0])
                keyed = [(raw, partition_key(orjson.loads(raw))) for raw in lines]
                seconds = _paced(emitter, reader, keyed, count, options.rate)
                emitter.flush(30)
            drained = reader.until(count, options.phase_timeout, child.proc, child.describe)
            peak_kib = peak_rss_kib(child.proc.pid)
        finally:
            reader.close()
            run.children.stop(child)
        latencies += drained.latencies_ms
        per_pack[pack] = {"p50_ms": percentile(drained.latencies_ms, 0.50),
                          "p99_ms": percentile(drained.latencies_ms, 0.99),
                          "max_ms": max(drained.latencies_ms, default=0.0)}
        achieved.append(count / seconds if seconds else 0.0)
        if peak_kib is not None:
            peak.append(peak_kib)
    run.latency = {
        "offered_events_per_s": options.rate,
        "achieved_events_per_s": round(min(achieved), 1) if achieved else 0.0,
        "seconds_per_pack": options.latency_seconds,
        "events": len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else 0.0,
        "per_pack": per_pack,
    }
    run.rss_kib["f"] = max(peak) if peak else None
    run.say(f"(f) at {options.rate:,.0f} events/s: p50 {run.latency['p50_ms']:.0f} ms, "
            f"p99 {run.latency['p99_ms']:.0f} ms")


def _warm_up(run: Run, child: Child, emitter: Emitter, reader: DecisionReader,
             sample: bytes) -> None:
    """Send one probe event and wait for its decision: the worker has joined and is live."""
    probe = orjson.loads(sample)
    probe["event_id"] = WARMUP_ID + run.tag
    emitter.emit_raw(orjson.dumps(probe), key=partition_key(probe))
    emitter.flush(30)
    reader.until(1, run.options.phase_timeout, child.proc, child.describe)
    reader.result = Drained()


def _paced(emitter: Emitter, reader: DecisionReader, keyed: list[tuple[bytes, bytes | None]],
           count: int, rate: float) -> float:
    """Send ``count`` events at ``rate`` per second (cycling ``keyed``); seconds it took.

    The schedule is against the start, so a late send is caught up, never lost.
    """
    start = time.monotonic()
    sent = 0
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            raw, key = keyed[sent % len(keyed)]
            emitter.emit_raw(raw, key=key)
            sent += 1
        reader.poll(0)
        pause = start + sent / rate - time.monotonic()
        if pause > 0:
            time.sleep(min(pause, 0.002))
    return time.monotonic() - start
