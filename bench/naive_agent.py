"""Row (d): the Faust agent a user writes first — decode, classify, ``await send`` per event.

Run as ``python -m bench.naive_agent --bootstrap HOST:PORT --input T --output T --policy P``.
It gets the same broker settings as the worker (short group timings, 50 ms fetch wait),
so the comparison measures the code, not the embedded broker's quirks.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

import faust

from auditor.engine import Decider, Engine
from auditor.events.keys import partition_key
from auditor.policy import load_policy
from bench.faust_fetch import consumer_with_fetch_wait


def make_app(args: argparse.Namespace) -> faust.App:
    decider = Decider(Engine(load_policy(args.policy)))
    app = faust.App(
        args.group,
        broker=f"kafka://{args.bootstrap}",
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        datadir=tempfile.mkdtemp(prefix="bench-naive-"),
        consumer_auto_offset_reset="earliest",
        topic_allow_declare=False,
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        logging_config=None,
    )
    transport: Any = app.transport
    transport.Consumer = consumer_with_fetch_wait(args.fetch_max_wait_ms)
    source = app.topic(args.input, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    sink = app.topic(args.output, key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw")

    @app.agent(source, name="naive.decide")
    async def decide(stream: Any) -> None:
        async for value in stream:
            for decision in decider.raw(value).decisions():
                key = partition_key(decision.event) if isinstance(decision.event, dict) else None
                await sink.send(key=key, value=decision.to_json())

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.naive_agent")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--fetch-max-wait-ms", type=int, default=50)
    args = parser.parse_args()
    app = make_app(args)
    worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False,
                          override_logging=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
