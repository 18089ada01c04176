"""The printed table of a run: one row per phase, then ratios and targets."""

from __future__ import annotations

from typing import Any

ROWS = (
    ("a", "decode only (orjson.loads), in process"),
    ("b", "decode + classify (Engine.decide), in process"),
    ("b2", "worker pipeline in process (Pipeline.process: + JSON out, headers)"),
    ("c", "raw consume + decode (confluent-kafka), 1 event/record"),
    ("c_batch", "raw consume + decode, batch records of {batch}"),
    ("d", "naive Faust agent: decode + classify + await send per event"),
    ("e", "auditor worker end to end, 1 event/record"),
    ("e_batch", "auditor worker end to end, batch records of {batch}"),
    ("e_procs", "auditor worker, {processes} decision processes, 1 event/record"),
)


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "skipped" if value is None else format(value, fmt)


def table(doc: dict[str, Any]) -> str:
    """The results document as a plain-text table."""
    batch = doc["options"]["batch_events"]
    lines = [f"{'row':<8} {'what':<70} {'events/s':>12}", "-" * 92]
    for name, template in ROWS:
        phase = doc["phases"][name]
        what = template.format(batch=batch, processes=doc["options"]["processes"])
        lines.append(f"{name:<8} {what:<70} "
                     f"{_num(None if phase is None else phase['events_per_s']):>12}")
    layout = doc["input"].get("records")
    if layout is not None:
        held = layout["broker_holds"]["records_per_batch"]
        lines.append(f"{'':<8} {'input record batches held by the broker (c, e, e_procs)':<70} "
                     f"{held['median']:>12}")
    lat = doc["latency"]
    if lat is None:
        lines.append(f"{'f':<8} {'produce -> decision latency':<70} {'skipped':>12}")
    else:
        what = (f"produce -> decision latency at {lat['offered_events_per_s']:,.0f} events/s "
                f"(achieved {lat['achieved_events_per_s']:,.0f})")
        lines.append(f"{'f':<8} {what:<70}")
        lines.append(f"{'':<8} {'p50 / p99 / max (ms)':<70} "
                     f"{lat['p50_ms']:.0f} / {lat['p99_ms']:.0f} / {lat['max_ms']:.0f}")
    rss = doc["peak_rss_mib"]
    lines.append(f"{'rss':<8} {'worker peak RSS (VmHWM), MiB: e / e_batch / f':<70} "
                 f"{_num(rss['worker_e'], '.0f')} / {_num(rss['worker_e_batch'], '.0f')} / "
                 f"{_num(rss['worker_f'], '.0f')}")
    lines.append("")
    lines.append("ratios: " + ", ".join(
        f"{k} = {_num(v, '.3f')}" for k, v in doc["ratios"].items()))
    lines.append("targets:")
    for name, t in doc["targets"].items():
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        value = _num(t["value"], ".3f" if "ms" not in name else ".0f")
        lines.append(f"  {name:<34} {value:>10}  {verdict}")
    return "\n".join(lines)
