"""The attestation block a DPO signs: controller, period, inputs, policy, chain, how to verify."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditor.report.about import PolicyAbout

STATEMENT = (
    "The decisions counted in this report are those auditor replay made, in the order "
    "read, on the inputs listed, with the policy and legal tables named. The chain head is "
    "a SHA-256 hash chain over every decision record (event and deadline decisions): "
    "deciding the same inputs with the same policy again gives the same head, and any "
    "changed input, policy, verdict or finding gives another. The verify command does so "
    "and compares."
)
# The folder is not named: a report is byte-identical whatever --out was, and is often
# archived elsewhere. Paths in the report are relative to where the replay ran.
VERIFY_COMMAND = "auditor replay --verify REPORT_DIR"
VERIFY_CHECKS = (
    "REPORT_DIR is the folder holding this report.json; run the command in the directory "
    "the replay ran in (the input and policy paths are relative to it), with "
    "--bootstrap-servers for a topic. It loads the policy from its path and checks its "
    "content hash; checks each input file's SHA-256 (for a topic: reads the same offsets of "
    "each partition); decides the inputs again with the same --now and compares the chain "
    "head, the number of decision records and the verdict counts. Exit 0: verified; 1: not."
)


def inputs(sources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What was read, by what identifies it: a file's path and SHA-256, a topic's offsets."""
    out: list[dict[str, Any]] = []
    for source in sources:
        if source.get("kind") == "topic":
            out.append({
                "kind": "topic",
                "topic": source["topic"],
                "partitions": [
                    {k: p[k] for k in ("partition", "start_offset", "end_offset")}
                    for p in source["partitions"]
                ],
            })
        else:
            out.append({k: source[k] for k in ("kind", "path", "sha256", "lines")})
    return out


def attestation(
    about: PolicyAbout,
    *,
    policy: Mapping[str, Any],
    period: Mapping[str, Any],
    event_time: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    integrity: Mapping[str, Any],
    closed_at: str | None,
) -> dict[str, Any]:
    """The block of report-v1 ``attestation``, from the parts of the report it restates."""
    return {
        "statement": STATEMENT,
        "controller": dict(about.controller) or None,
        "period": {
            "from": period.get("from"),
            "to": period.get("to"),
            "event_time_first": event_time.get("first"),
            "event_time_last": event_time.get("last"),
            "deadlines_closed_at": closed_at,
        },
        "inputs": inputs(sources),
        "policy": {
            "id": policy.get("id"),
            "title": about.title,
            "label": about.label,
            "version": policy.get("version"),
            "path": policy.get("path"),
        },
        "legal_tables": policy.get("legal_tables"),
        "chain": {
            "algorithm": integrity["algorithm"],
            "records": integrity["records"],
            "head": integrity["head"],
        },
        "verify": {"command": VERIFY_COMMAND, "checks": VERIFY_CHECKS},
    }
