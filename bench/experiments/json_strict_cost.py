"""What strict decoding (auditor.intake.strict_json) costs per event, against plain orjson.

    .venv/bin/python -m bench.experiments.json_strict_cost

Prints the best of 7 timeit repeats, in µs per event, for a ~600-byte event and for the
seed traffic of examples/natterbox.jsonl; and the slow path (a duplicate) for scale.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from pathlib import Path

import orjson

from auditor.intake.strict_json import decode as strict_decode

ROOT = Path(__file__).resolve().parents[2]
EVENT = (
    b'{"event_id":"natterbox-0000205","event_time":"2026-03-02T08:00:03.351Z","tenant":'
    b'{"id":"lakeshore-legal","home_region":"USA1","settings":{"extended_retention":true,'
    b'"training_opt_out":true}},"service":"support-portal","subject":{"key":'
    b'"subj-6e36d1bc52d9"},"data_class":"call_recording","operation":"store","origin":'
    b'{"location":"site:equinix-london"},"destination":{"location":"country:IN"},'
    b'"processor":"support-partner","purpose":"support","encryption":{"in_transit":'
    b'"tls1.3","at_rest":"aes-256"},"retention_days":30,"labels":{"team":"support",'
    b'"env":"prod","region":"eu-west-2"},"upstream":["natterbox-0000204","natterbox-0000203"]}'
)
DUPLICATE = EVENT[:-1] + b',"data_class":"call_metadata"}'
# The same event as Python's json.dumps writes it (", " and ": "): not orjson's bytes.
SPACED = json.dumps(orjson.loads(EVENT)).encode()


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate")
    return out


def best_us(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6


def main() -> None:
    text = (ROOT / "examples" / "natterbox.jsonl").read_bytes()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows = [
        (f"orjson.loads, {len(EVENT)}-byte event", lambda: orjson.loads(EVENT), 200_000),
        ("strict_json.decode", lambda: strict_decode(EVENT), 200_000),
        (f"orjson.loads, same event as json.dumps writes it ({len(SPACED)} bytes)",
         lambda: orjson.loads(SPACED), 200_000),
        ("strict_json.decode of it (the byte counts)", lambda: strict_decode(SPACED), 200_000),
        ("json.loads + object_pairs_hook (exact, always)",
         lambda: json.loads(EVENT, object_pairs_hook=_pairs), 50_000),
        ("strict_json.decode of a duplicate (slow path)",
         lambda: strict_decode(DUPLICATE), 50_000),
    ]
    for name, fn, number in rows:
        print(f"{name:68} {best_us(fn, number):6.2f} µs")
    n = len(lines)
    for name, decode in (("orjson.loads", orjson.loads), ("strict_json.decode", strict_decode)):
        per = best_us(lambda d=decode: [d(line) for line in lines], 20) / n  # type: ignore[misc]
        print(f"{name + f' over {n} seed events':68} {per:6.2f} µs")


if __name__ == "__main__":
    main()
