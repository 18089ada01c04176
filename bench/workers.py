"""Rows (d) and (e): the naive agent and the auditor worker as processes, read to the end."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from confluent_kafka import ConsumerGroupState, KafkaException
from confluent_kafka.admin import AdminClient

from auditor import kafka_config
from auditor.broker import ensure_topics
from bench.context import BROKER_ENV, POLICIES, Run
from bench.kafka_io import DecisionReader, Drained, PhaseError
from bench.measure import Rate
from bench.procs import Child, peak_rss_kib
from bench.profiled_worker import START, STOP


@dataclass
class Drain:
    """One process's run over a pack: its decisions, when its group formed, what it used."""

    drained: Drained
    joined_at: float | None  # epoch seconds when its consumer group became stable
    rss_kib: int | None  # peak RSS: the largest of its processes (a supervisor's children)
    cpu_seconds: float  # from the group join to the last decision, its processes together
    broker_cpu_seconds: float | None = None  # the embedded broker's, over the same time
    rss_sum_kib: int | None = None  # peak RSS of its processes added up
    # CPU seconds by kind of thread over the same time (``_threads_cpu``).
    threads_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """From the group join to the last decision (first decision, if the join was missed).

        Not from the first decision: a worker delivers a whole batch at once (up to
        AUDITOR_BATCH_MAX events), and the naive agent's first decision can come late, so
        the first decision is not a fair start for every process.
        """
        last = self.drained.last_ms
        if self.joined_at is None or last is None:
            return self.drained.seconds
        return max(last / 1000 - self.joined_at, 0.001)


def worker_env(run: Run, pack: str, input_topic: str, role: str) -> tuple[dict[str, str], str]:
    """The worker's environment for one pack (fresh output topics); and its decisions topic."""
    names = {k: run.topic(f"{role}-{k}", pack) for k in ("dec", "find", "dlq")}
    ensure_topics(run.bootstrap, dict.fromkeys(names.values(), run.options.partitions))
    env = {
        "AUDITOR_BOOTSTRAP_SERVERS": run.bootstrap,
        "AUDITOR_POLICY": str(POLICIES / f"{pack}.yaml"),
        "AUDITOR_INPUT_TOPICS": json.dumps([input_topic]),
        "AUDITOR_DECISIONS_TOPIC": names["dec"],
        "AUDITOR_FINDINGS_TOPIC": names["find"],
        "AUDITOR_DEAD_LETTER_TOPIC": names["dlq"],
        "AUDITOR_GROUP_ID": f"bench-{run.tag}-{role}-{pack}",
        "AUDITOR_WORKER_ID": f"bench-{role}-{pack}",
        "AUDITOR_PARTITIONS": str(run.options.partitions),
        "AUDITOR_LOG_LEVEL": "warning",
        **BROKER_ENV,
        **dict(run.options.worker_env),
    }
    return env, names["dec"]


def naive(run: Run, inputs: dict[str, str]) -> None:
    """(d) the naive Faust agent (``bench.naive_agent``), one process per pack in turn."""
    if "d" in run.options.skip:
        run.rates["d"] = None
        run.rss_kib["d"] = None
        return
    rate = Rate()
    peak: list[int] = []
    for pack in run.traffic.packs:
        output = run.topic("naive", pack)
        group = f"bench-naive-{run.tag}-{pack}"
        ensure_topics(run.bootstrap, {output: run.options.partitions})
        child = run.children.python(f"naive-{pack}", "bench.naive_agent", [
            "--bootstrap", run.bootstrap, "--input", inputs[pack], "--output", output,
            "--policy", str(POLICIES / f"{pack}.yaml"), "--group", group,
        ], {})
        drain = _drain(run, child, output, run.events_of(pack), group)
        rate.add(pack, drain.drained.decisions, drain.seconds,
                 first_to_last_s=drain.drained.seconds)
        if drain.rss_kib is not None:
            peak.append(drain.rss_kib)
    run.rates["d"] = rate
    run.rss_kib["d"] = max(peak) if peak else None
    run.say(f"(d) {rate.per_s:,.0f} events/s naive Faust agent")


def throughput(run: Run, name: str, inputs: dict[str, str], processes: int = 1, *,
               module: str = "auditor", extra_env: dict[str, str] | None = None,
               role: str | None = None) -> dict[str, str]:
    """(e), (e_batch) or (e_procs): ``auditor worker`` on the pre-loaded input, one pack at
    a time; with ``processes`` > 1 as that many decision processes (AUDITOR_PROCESSES).

    ``module`` (run with ``python -m``; ``auditor`` gets the argument ``worker``),
    ``extra_env`` and ``role`` (names its topics and group) serve experiments. Returns each
    pack's decisions topic.
    """
    outputs: dict[str, str] = {}
    if name in run.options.skip:
        run.rates[name] = None
        run.rss_kib[name] = None
        return outputs
    rate = Rate()
    peak: list[int] = []
    deadlines = 0
    cpu = 0.0
    broker_cpu: float | None = 0.0
    threads: dict[str, float] = {}
    for pack in run.traffic.packs:
        env, decisions = worker_env(run, pack, inputs[pack], role or name.replace("_", ""))
        outputs[pack] = decisions
        env.update(extra_env or {})
        if processes > 1:
            env["AUDITOR_PROCESSES"] = str(processes)
        child = run.children.python(f"{name}-{pack}", module,
                                    ["worker"] if module == "auditor" else [], env)
        drain = _drain(run, child, decisions, run.events_of(pack), env["AUDITOR_GROUP_ID"])
        rate.add(pack, drain.drained.decisions, drain.seconds,
                 first_to_last_s=drain.drained.seconds)
        deadlines += drain.drained.deadlines
        cpu += drain.cpu_seconds
        for kind, seconds in drain.threads_cpu.items():
            threads[kind] = threads.get(kind, 0.0) + seconds
        if broker_cpu is not None and drain.broker_cpu_seconds is not None:
            broker_cpu += drain.broker_cpu_seconds
        else:
            broker_cpu = None
        if drain.rss_kib is not None:
            peak.append(drain.rss_kib)
        if processes > 1:
            rate.per_pack[pack]["rss_sum_mib"] = round((drain.rss_sum_kib or 0) / 1024, 1)
    rate.extra["processes"] = processes
    rate.extra["deadline_decisions"] = deadlines
    # CPU the workers used from their group join to their last decision, over that time
    # (in cores: up to the number of processes), and the embedded broker's meanwhile.
    rate.extra["worker_cpu_share"] = round(cpu / rate.seconds, 3) if rate.seconds else None
    rate.extra["worker_cpu_us_per_event"] = (
        round(cpu / rate.events * 1e6, 2) if rate.events else None)
    # Where the worker's CPU went: its main thread (the batch loop, Python), its other
    # Python threads (the consumer's, the delivery waits) and librdkafka's own threads.
    rate.extra["worker_cpu_us_per_event_by_thread"] = {
        kind: round(seconds / rate.events * 1e6, 2)
        for kind, seconds in sorted(threads.items(), key=lambda kv: -kv[1])
    } if rate.events else None
    rate.extra["broker_cpu_share"] = (
        round(broker_cpu / rate.seconds, 3) if broker_cpu is not None and rate.seconds
        else None)
    rate.extra["broker_cpu_us_per_event"] = (
        round(broker_cpu / rate.events * 1e6, 2) if broker_cpu is not None and rate.events
        else None)
    run.rates[name] = rate
    run.rss_kib[name] = max(peak) if peak else None
    run.say(f"({name}) {rate.per_s:,.0f} events/s auditor worker "
            f"(peak RSS {round(max(peak) / 1024) if peak else '?'} MiB)")
    return outputs


def profile(run: Run, ones: dict[str, str], batched: dict[str, str]) -> None:
    """(e) once more for the first pack under pyinstrument: where the worker's time goes.

    The profile covers the group join to the last decision (see ``bench.profiled_worker``).
    """
    pack = run.traffic.packs[0]
    for name, topics in (("e", ones), ("e_batch", batched)):
        if name in run.options.skip:
            continue
        out = run.work_dir / f"profile-{name}-{pack}.json"
        env, decisions = worker_env(run, pack, topics[pack], f"p{name.replace('_', '')}")
        env["BENCH_PROFILE_OUT"] = str(out.resolve())
        child = run.children.python(f"profile-{name}-{pack}", "bench.profiled_worker", [], env)
        drain = _drain(run, child, decisions, run.events_of(pack), env["AUDITOR_GROUP_ID"], out)
        run.profile[name] = {
            "pack": pack,
            "file": str(out.with_suffix(".txt")),
            "events_per_s_under_profiler": round(drain.drained.decisions / drain.seconds, 1),
            "worker_cpu_share": round(drain.cpu_seconds / drain.seconds, 3),
            **orjson.loads(out.read_bytes()),
        }
        run.say(f"profile of ({name}) {pack}: {out.with_suffix('.txt')}")


def _drain(run: Run, child: Child, topic: str, events: int, group: str,
           profile_to: Path | None = None) -> Drain:
    """Read ``events`` decisions of ``child`` from ``topic``; then its peak RSS, and stop it.

    Watches ``group`` until it is stable: from then on the child is consuming. With
    ``profile_to``, the child is the profiled worker: its profiler runs from then to the
    last decision.
    """
    reader = DecisionReader(run.bootstrap, topic)
    admin = AdminClient(kafka_config.admin(run.bootstrap, None,
                                           logger=logging.getLogger("bench.kafka")))
    pid = child.proc.pid
    joined_at: float | None = None
    cpu_first = 0.0
    threads_first: dict[str, float] = {}
    broker_first: float | None = None
    try:
        deadline = time.monotonic() + run.options.phase_timeout
        while reader.result.decisions < events:
            if child.proc.poll() is not None:
                raise PhaseError(f"{child.name} exited with status {child.proc.returncode} "
                                 f"after {reader.result.decisions} of {events} decisions; "
                                 f"{child.describe()}")
            if time.monotonic() > deadline:
                raise PhaseError(f"{child.name}: {reader.result.decisions} of {events} "
                                 f"decisions in {run.options.phase_timeout:g} s; log {child.log}")
            if joined_at is None and not reader.result.decisions:
                if _group_stable(admin, group):
                    joined_at = time.time()
                    cpu_first = _tree_cpu_seconds(pid)
                    threads_first = _threads_cpu(pid)
                    if run.broker_pid is not None:
                        broker_first = _cpu_seconds(run.broker_pid)
                    if profile_to is not None:
                        os.kill(pid, START)
                reader.poll(0.05)
            else:
                reader.poll(0.2)
        cpu_last = _tree_cpu_seconds(pid)
        threads_cpu = {kind: seconds - threads_first.get(kind, 0.0)
                       for kind, seconds in _threads_cpu(pid).items()}
        broker_cpu = (None if broker_first is None or run.broker_pid is None
                      else _cpu_seconds(run.broker_pid) - broker_first)
        rss_each = [kib for kib in map(peak_rss_kib, _tree(pid)) if kib is not None]
        if profile_to is not None:
            os.kill(pid, STOP)
            _wait_for_file(profile_to, child)
    finally:
        reader.close()
        run.children.stop(child)
    return Drain(reader.result, joined_at, max(rss_each, default=None),
                 max(0.0, cpu_last - cpu_first), broker_cpu, sum(rss_each) or None,
                 {k: v for k, v in threads_cpu.items() if v > 0})


def _group_stable(admin: AdminClient, group: str) -> bool:
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=5)
    except KafkaException:
        return False
    return bool(description.state == ConsumerGroupState.STABLE)


def _wait_for_file(path: Path, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        if child.proc.poll() is not None or time.monotonic() > deadline:
            raise PhaseError(f"no profile written to {path}; {child.describe()}")
        time.sleep(0.1)


def _tree(pid: int) -> list[int]:
    """``pid`` and its children (a supervising worker's decision processes)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


def _threads_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of every thread of ``pid`` and its children, by kind: ``main`` (each
    process's main thread), ``python`` (its other Python threads) or librdkafka's thread
    name without its numbers (``rdk:main``, ``rdk:broker``, …)."""
    out: dict[str, float] = {}
    for proc in _tree(pid):
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{proc}/task")]
        except OSError:
            continue
        for tid in tids:
            try:
                stat = Path(f"/proc/{proc}/task/{tid}/stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            if tid == proc:
                kind = "main"
            elif name.startswith("rdk:"):
                kind = re.sub(r"[\d/.:]+$", "", name.split("/")[0]) or name
            else:
                kind = "python"
            out[kind] = out.get(kind, 0.0) + seconds
    return out


def _tree_cpu_seconds(pid: int) -> float:
    return sum(_cpu_seconds(p) for p in _tree(pid))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
