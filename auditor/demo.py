"""`auditor demo`: broker, worker and a seed pack's traffic on this machine, shown live."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from confluent_kafka import Consumer, Message
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from auditor import kafka_config
from auditor.broker import EmbeddedBroker, ensure_topics
from auditor.emit import Emitter
from auditor.engine.decision import Finding
from auditor.ops.server import READINESS
from auditor.tally import Tally
from auditor.traffic import generate, load_pack

TOPICS = ("lineage.events", "auditor.decisions", "auditor.findings", "auditor.dlq")
WORKER_LOG = "worker.log"


def run_directory() -> Path:
    """A new directory for one demo run (worker log and data): two demos never share one.

    Kept after the run, so the log can be read when the demo fails.
    """
    return Path(tempfile.mkdtemp(prefix="auditor-demo-"))


@dataclass
class Progress:
    """What the live view shows, updated from the decisions topic."""

    sent: int = 0
    started: float = field(default_factory=time.monotonic)
    tally: Tally = field(default_factory=Tally)
    latencies_ms: list[float] = field(default_factory=list)
    last_violations: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    first_decision: float | None = None

    def add(self, msg: Message) -> None:
        record = orjson.loads(msg.value() or b"{}")
        self.tally.add_record(record)
        if record.get("verdict") == "violation":
            first = Finding(**record["findings"][0])
            self.last_violations.append(f"{record['event_id']}: [{first.kind}] {first.message}")
        headers = dict(msg.headers() or [])
        sent_ms = headers.get("auditor.source.timestamp")
        kind, decided_ms = msg.timestamp()
        if sent_ms and kind:
            self.latencies_ms.append(decided_ms - int(sent_ms))
        if self.first_decision is None:
            self.first_decision = time.monotonic()

    def rate(self) -> float:
        if self.first_decision is None:
            return 0.0
        return self.tally.events / max(time.monotonic() - self.first_decision, 1e-3)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def render(p: Progress, total: int, title: str) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_row(
        f"[bold]{title}[/bold]",
        f"sent {p.sent}/{total}",
        f"decided {p.tally.events}",
        f"{p.rate():,.0f} events/s",
        f"latency p50 {p.percentile(0.5):.0f} ms  p99 {p.percentile(0.99):.0f} ms",
    )
    verdicts = Table("allow", "violation", "invalid (dead-lettered)", box=None)
    verdicts.add_row(*(str(p.tally.verdicts[v]) for v in ("allow", "violation", "invalid")))
    rules = Table("top violated rules", "kind", "events", box=None)
    for (rule, kind, _sev, effect), count in p.tally.by_rule.most_common(6):
        rules.add_row(rule + ("" if effect == "deny" else f" ({effect})"), kind, str(count))
    last = Table("last violations", box=None)
    for line in p.last_violations:
        last.add_row(line[:150])
    return Group(head, verdicts, rules, last)


def _events(pack: str, count: int) -> Iterator[bytes]:
    """The pack's example file (as shipped) when it is big enough, else generated traffic."""
    example = Path("examples") / f"{pack}.jsonl"
    if example.is_file():
        lines = [line for line in example.read_bytes().splitlines() if line.strip()]
        if len(lines) >= count:
            yield from lines[:count]
            return
    for event in generate(load_pack(pack), count):
        yield orjson.dumps(event)


def _start_worker(bootstrap: str, policy: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AUDITOR_BOOTSTRAP_SERVERS": bootstrap,
        "AUDITOR_METRICS_PORT": "0",
        "AUDITOR_POLICY": str(policy),
        "AUDITOR_WORKER_ID": "demo-worker",
        "AUDITOR_GROUP_ID": f"auditor-demo-{uuid.uuid4().hex[:6]}",
        # The worker recognises the embedded broker and takes the local profile itself
        # (auditor.stream.local_profile): short group timings and fetch wait, at least once.
        "AUDITOR_BATCH_WITHIN_S": "0.01",
        "AUDITOR_LOG_LEVEL": "warning",
    }
    with (run_dir / WORKER_LOG).open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "auditor", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def run_demo(
    pack: str,
    policy: Path,
    count: int,
    rate: float,
    live: bool,
    console: Console,
    timeout_s: float,
    run_dir: Path,
    after: Callable[[Progress, str], None] | None = None,
) -> Progress:
    """Run the whole demo; returns what was seen. Everything started here is stopped here.

    ``after(progress, bootstrap)`` runs once the traffic is decided, with the broker and
    the worker still up (``--keep-running`` waits there for Ctrl-C). The worker's log and
    data go to ``run_dir`` (see ``run_directory``).
    """
    progress = Progress()
    log = run_dir / WORKER_LOG
    with EmbeddedBroker() as broker:
        console.print(
            f"embedded Kafka-protocol broker (Tansu) on {broker.bootstrap} (pid {broker.pid})"
        )
        ensure_topics(broker.bootstrap, dict.fromkeys(TOPICS, 4))
        worker = _start_worker(broker.bootstrap, policy, run_dir)
        consumer = Consumer(kafka_config.reader(
            broker.bootstrap, group_id=f"demo-view-{uuid.uuid4().hex[:6]}",
            **{"auto.offset.reset": "earliest", "session.timeout.ms": 6000},
        ))
        # Made while the worker starts: its idempotent producer gets its producer id from
        # the broker (0.5-1 s on the embedded one) before the first event, not with it.
        with Emitter(broker.bootstrap, validate=False) as emitter:
            try:
                console.print(f"worker started (pid {worker.pid}, log {log}); policy {policy}")
                consumer.subscribe(["auditor.decisions"])
                _play(
                    emitter,
                    pack,
                    count,
                    rate,
                    progress,
                    consumer,
                    worker,
                    log,
                    live,
                    console,
                    timeout_s,
                )
                if after is not None:
                    after(progress, broker.bootstrap)
            finally:
                consumer.close()
                _stop(worker)
    return progress


def _play(
    emitter: Emitter,
    pack: str,
    count: int,
    rate: float,
    progress: Progress,
    consumer: Consumer,
    worker: subprocess.Popen[bytes],
    log: Path,
    live: bool,
    console: Console,
    timeout_s: float,
) -> None:
    events = _events(pack, count)
    interval = 1.0 / rate if rate > 0 else 0.0
    deadline = time.monotonic() + timeout_s
    title = f"auditor demo: {pack}"
    _wait_until_ready(worker, log, console, deadline)
    view = (
        Live(
            render(progress, count, title),
            console=console,
            refresh_per_second=4,
            transient=False,
        )
        if live
        else None
    )
    last_print = 0.0
    if view is not None:
        view.start()
    try:
        next_send = time.monotonic()
        while progress.tally.events < count:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker stopped (exit {worker.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{progress.tally.events} of {count} decided in time")
            now = time.monotonic()
            while progress.sent < count and now >= next_send:
                emitter.emit_raw(next(events))
                progress.sent += 1
                next_send += interval
            msg = consumer.poll(0.005 if progress.sent < count else 0.2)
            while msg is not None:
                if msg.error() is None:
                    progress.add(msg)
                msg = consumer.poll(0)
            if view is not None:
                view.update(render(progress, count, title))
            elif now - last_print > 2:
                last_print = now
                _line(progress, count, console)
        emitter.flush(30)
    finally:
        if view is not None:
            view.update(render(progress, count, title))
            view.stop()
    if not live:
        _line(progress, count, console)


def _wait_until_ready(
    worker: subprocess.Popen[bytes], log: Path, console: Console, deadline: float
) -> None:
    """Wait until the worker says it is ready on ``/readyz`` (policy loaded, partitions
    assigned, memory restored): its URL is the one its log announces."""
    with console.status("waiting for the worker to join the consumer group..."):
        base = None
        while True:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker stopped (exit {worker.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not get ready in time")
            if base is None:
                found = _METRICS_URL.search(log.read_text(errors="replace"))
                base = found.group(1) if found else None
            elif _ready(base + READINESS):
                return
            time.sleep(0.1)


_METRICS_URL = re.compile(r"metrics on (http://\S+)/metrics")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False  # 503 (not ready yet) raises HTTPError, a URLError


def _line(p: Progress, total: int, console: Console) -> None:
    v = p.tally.verdicts
    console.print(
        f"sent {p.sent}/{total}  decided {p.tally.events}  "
        f"allow {v['allow']}  violation {v['violation']}  invalid {v['invalid']}  "
        f"{p.rate():,.0f} events/s  p99 {p.percentile(0.99):.0f} ms"
    )


def interrupt_safely(run: Callable[[], Progress]) -> Progress | None:
    """Run the demo; Ctrl-C or SIGTERM stops it cleanly (finally blocks stop the processes)."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return run()
    except KeyboardInterrupt:
        return None
    finally:
        signal.signal(signal.SIGTERM, previous)
